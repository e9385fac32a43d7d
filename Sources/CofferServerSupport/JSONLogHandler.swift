import CofferText
import Foundation
public import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Writes one JSON object per line to standard error: time, level, label, message, metadata.
///
/// Metadata keys carry the `coffer.` prefix; no code path puts a secret in a message or metadata.
/// Keys are sorted. The line is built by hand: a date formatter and `JSONSerialization` per line
/// cost a quarter of the transaction tier's CPU under load.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (key, value) in metadata { fields[key] = value.description }
        for (key, value) in event.metadata ?? [:] { fields[key] = value.description }
        fields["time"] = Self.timestamp()
        fields["level"] = event.level.rawValue
        fields["label"] = label
        fields["message"] = event.message.description
        FileHandle.standardError.write(Data(Self.line(fields).utf8))
    }

    /// One JSON object with sorted keys and a newline.
    static func line(_ fields: [String: String]) -> String {
        var out = "{"
        for (position, key) in fields.keys.sorted().enumerated() {
            if position > 0 { out += "," }
            appendQuoted(key, to: &out)
            out += ":"
            appendQuoted(fields[key]!, to: &out)
        }
        out += "}\n"
        return out
    }

    /// Appends `text` as a JSON string (RFC 8259 escaping), with every scalar that does not show as
    /// itself (C1 controls, bidi overrides, zero-width characters…) escaped: a log read on a terminal
    /// shows what an attacker sent, not what it wanted shown.
    static func appendQuoted(_ text: String, to out: inout String) {
        DisplayText.appendJSONString(text, to: &out)
    }

    /// The current UTC time as RFC 3339 with milliseconds, e.g. `2026-11-27T08:12:56.528Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }

    /// Bootstraps swift-log with this handler at `level`, once per process.
    public static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = JSONLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
