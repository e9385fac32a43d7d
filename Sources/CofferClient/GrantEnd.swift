public import Foundation

/// When a grant ends, as a person writes it: an ISO 8601 time, a date (its start, in UTC), or a
/// span from now (`30m`, `12h`, `7d`).
public enum GrantEnd {
    /// The moment `text` names, or `nil` when it is none of the forms.
    public static func parse(_ text: String, now: Date) -> Date? {
        if let span = TimeSpan.parse(text) { return now.addingTimeInterval(TimeInterval(span.components.seconds)) }
        let full = ISO8601DateFormatter()
        if let time = full.date(from: text) { return time }
        let date = ISO8601DateFormatter()
        date.formatOptions = [.withFullDate]
        return date.date(from: text)
    }

    /// Unix ms as a person reads it: UTC, to the second.
    public static func format(_ ms: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(ms) / 1000))
    }
}
