public import Foundation

/// Settings of a tier process from three places, later ones winning: a config file, the
/// environment, then command-line flags.
///
/// The file holds `key = value` lines; `#` starts a comment. A key `database-timeout` is read from
/// the environment as `<PREFIX>_DATABASE_TIMEOUT`.
public struct SettingsFile: Sendable {
    private var values: [String: String] = [:]

    /// Reads the config file at `path` (if any), then overlays the environment variables under `prefix`.
    public init(path: String?, environmentPrefix prefix: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if let path {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw SettingsError("cannot read the config file \(path)")
            }
            for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
                if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                guard let eq = line.firstIndex(of: "=") else {
                    throw SettingsError("\(path):\(number + 1): expected `key = value`")
                }
                let key = line[..<eq].trimmingCharacters(in: .whitespaces)
                let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                values[key] = value
            }
        }
        for (name, value) in environment where name.hasPrefix(prefix + "_") {
            let key = name.dropFirst(prefix.count + 1).lowercased().replacingOccurrences(of: "_", with: "-")
            values[key] = value
        }
    }

    /// Every key the file and the environment name.
    public var keys: [String] { values.keys.sorted() }

    /// The value of `key`, with a flag's value taking precedence.
    public func string(_ key: String, flag: String?) -> String? { flag ?? values[key] }

    /// An integer setting.
    public func int(_ key: String, flag: Int?) throws -> Int? {
        if let flag { return flag }
        guard let text = values[key] else { return nil }
        guard let value = Int(text) else { throw SettingsError("the setting \(key) must be a whole number, not '\(text)'") }
        return value
    }

    /// A list setting: comma-separated in the file and environment, repeated as a flag.
    public func list(_ key: String, flag: [String]) -> [String]? {
        if !flag.isEmpty { return flag }
        return values[key].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    }
}

/// A configuration mistake, with a sentence for the operator.
public struct SettingsError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
