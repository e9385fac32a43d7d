/// One setting of a tier process: its key, what it means, and how its text changes the
/// configuration. The same key is read from the config file (`database-timeout = 5`), from the
/// environment (`COFFER_TRANSACTION_DATABASE_TIMEOUT=5`) and from a flag (`--database-timeout 5`).
public struct Setting<Configuration>: Sendable {
    /// The key, lowercase with dashes.
    public let key: String
    /// One sentence for `--help`, the default included.
    public let help: String
    /// A list: comma-separated in the file and the environment, a repeated flag.
    let isList: Bool
    /// A switch: a flag without a value (`--migrate-only`), `true` or `false` in the file.
    let isSwitch: Bool
    let apply: @Sendable (inout Configuration, [String]) throws -> Void

    /// A setting whose value is text.
    public static func text(_ key: String, _ help: String, _ apply: @escaping @Sendable (inout Configuration, String) throws -> Void) -> Self {
        Self(key: key, help: help, isList: false, isSwitch: false) { configuration, values in try apply(&configuration, values.last ?? "") }
    }

    /// A setting whose value is a whole number in `range`.
    public static func number(_ key: String, _ help: String, in range: ClosedRange<Int> = 0...Int.max, _ apply: @escaping @Sendable (inout Configuration, Int) -> Void) -> Self {
        Self(key: key, help: help, isList: false, isSwitch: false) { configuration, values in
            let text = values.last ?? ""
            guard let value = Int(text) else { throw SettingsError("the setting \(key) must be a whole number, not '\(text)'") }
            guard range.contains(value) else { throw SettingsError("the setting \(key) must be \(range.lowerBound)-\(range.upperBound), not \(value)") }
            apply(&configuration, value)
        }
    }

    /// A setting that takes a list.
    public static func list(_ key: String, _ help: String, _ apply: @escaping @Sendable (inout Configuration, [String]) throws -> Void) -> Self {
        Self(key: key, help: help, isList: true, isSwitch: false, apply: apply)
    }

    /// A switch, off unless given.
    public static func `switch`(_ key: String, _ help: String, _ apply: @escaping @Sendable (inout Configuration, Bool) -> Void) -> Self {
        Self(key: key, help: help, isList: false, isSwitch: true) { configuration, values in
            switch values.last ?? "true" {
            case "true", "yes", "on", "1": apply(&configuration, true)
            case "false", "no", "off", "0": apply(&configuration, false)
            case let other: throw SettingsError("the setting \(key) is true or false, not '\(other)'")
            }
        }
    }
}
