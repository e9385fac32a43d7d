public import Foundation

/// Reads a tier process's configuration from one table of settings: the `--config` file first, then
/// `PREFIX_KEY` environment variables, then flags, a later source overriding an earlier one. A key
/// that is no setting is refused wherever it appears, with the place named, so that a typo never
/// falls back to a default.
public struct SettingsReader<Configuration>: Sendable {
    public let command: String
    public let abstract: String
    public let environmentPrefix: String
    public let settings: [Setting<Configuration>]

    public init(command: String, abstract: String, environmentPrefix: String, settings: [Setting<Configuration>]) {
        self.command = command
        self.abstract = abstract
        self.environmentPrefix = environmentPrefix
        self.settings = settings
    }

    /// What reading found.
    public enum Outcome {
        case configuration(Configuration)
        /// `--help` (or `--example-config`) was given: print this and exit 0.
        case help(String)
    }

    /// Reads `arguments` (without the program name) over `defaults`.
    public func read(arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment, defaults: Configuration) throws -> Outcome {
        if arguments == ["--example-config"] { return .help(exampleConfig()) }
        let (configFile, flags, wantsHelp) = try parseFlags(arguments)
        if wantsHelp { return .help(help()) }
        let source = try SettingsFile(path: configFile, environmentPrefix: environmentPrefix, environment: environment)
        let known = Set(settings.map(\.key))
        if let unknown = source.keys.first(where: { !known.contains($0) }) {
            let place = environment["\(environmentPrefix)_\(unknown.uppercased().replacingOccurrences(of: "-", with: "_"))"] != nil
                ? "\(environmentPrefix)_\(unknown.uppercased().replacingOccurrences(of: "-", with: "_"))" : "\(configFile ?? "the config file")"
            throw SettingsError("\(place): '\(unknown)' is not a setting of \(command); \(command) --help lists them")
        }
        var configuration = defaults
        for setting in settings {
            if let values = flags[setting.key] {
                try setting.apply(&configuration, values)
            } else if setting.isList, let values = source.list(setting.key, flag: []) {
                try setting.apply(&configuration, values)
            } else if let value = source.string(setting.key, flag: nil) {
                try setting.apply(&configuration, [value])
            }
        }
        return .configuration(configuration)
    }

    /// The configuration of this process: `--help` prints the settings and exits 0; a setting that
    /// cannot be read prints one line and exits 64.
    public func configurationOrExit(defaults: Configuration) -> Configuration {
        do {
            switch try read(arguments: Array(CommandLine.arguments.dropFirst()), defaults: defaults) {
            case .help(let text):
                print(text)
                exit(0)
            case .configuration(let configuration):
                return configuration
            }
        } catch {
            FileHandle.standardError.write(Data("\(command): \(error)\n".utf8))
            exit(64)
        }
    }

    /// `--key value`, `--key=value` and switches, by key; the config file; whether help was asked.
    private func parseFlags(_ arguments: [String]) throws -> (String?, [String: [String]], Bool) {
        var flags: [String: [String]] = [:]
        var configFile: String?
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "--help" || argument == "-h" { return (nil, [:], true) }
            guard argument.hasPrefix("--") else { throw SettingsError("unexpected argument '\(argument)'; \(command) takes only --key value settings") }
            var key = String(argument.dropFirst(2))
            var value: String?
            if let equals = key.firstIndex(of: "=") {
                value = String(key[key.index(after: equals)...])
                key = String(key[..<equals])
            }
            let setting = settings.first { $0.key == key }
            guard key == "config" || setting != nil else { throw SettingsError("unknown option --\(key); \(command) --help lists them") }
            if value == nil, setting?.isSwitch != true {
                guard index < arguments.endIndex else { throw SettingsError("--\(key) needs a value") }
                value = arguments[index]
                index += 1
            }
            if key == "config" { configFile = value } else { flags[key, default: []].append(value ?? "true") }
        }
        return (configFile, flags, false)
    }

    /// A config file naming every setting, each commented out under its meaning: what
    /// `--example-config` prints, and what the examples in deploy/ start from.
    public func exampleConfig() -> String {
        var lines = ["# \(command) settings: key = value, one per line; # starts a comment.",
                     "# Every setting is listed, commented out at its default. Unknown keys are refused.", ""]
        for setting in settings {
            lines.append("# " + setting.help)
            lines.append("# \(setting.key) = " + (setting.isSwitch ? "false" : ""))
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    /// The help text: every setting with its meaning, and where settings come from.
    public func help() -> String {
        var lines = ["\(command): \(abstract)", "", "USAGE: \(command) [--config FILE] [--KEY VALUE ...]", "",
                     "Settings come from --config FILE (key = value lines), then \(environmentPrefix)_<KEY> environment",
                     "variables (KEY in capitals, dashes as underscores), then flags; a later one wins. Unknown keys are refused.",
                     "--example-config prints a config file that names every setting.", ""]
        let width = min(28, (settings.map { $0.key.count + ($0.isSwitch ? 2 : 8) }.max() ?? 20) + 2)
        for setting in settings {
            let flag = "--\(setting.key)" + (setting.isSwitch ? "" : " VALUE")
            lines.append("  " + flag.padding(toLength: max(width, flag.count + 1), withPad: " ", startingAt: 0) + setting.help)
        }
        return lines.joined(separator: "\n")
    }
}
