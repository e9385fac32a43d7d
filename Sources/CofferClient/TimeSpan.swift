/// A span of time as a person writes it on the command line: a whole number with `s`, `m`, `h` or
/// `d` (`30s`, `15m`, `12h`, `7d`), as `coffer watch --every` and `coffer share --until` take it.
public enum TimeSpan {
    /// The span `text` names, or `nil` when it is not one (or is zero, or longer than a century).
    public static func parse(_ text: String) -> Duration? {
        let century = 100 * 365 * 86_400
        guard let unit = text.last, let value = Int(text.dropLast()), value > 0, value <= century else { return nil }
        let scale: Int? = switch unit {
        case "s": 1
        case "m": 60
        case "h": 3600
        case "d": 86_400
        default: nil
        }
        guard let scale, value <= century / scale else { return nil }
        return .seconds(value * scale)
    }
}
