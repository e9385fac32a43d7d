import CofferServerSupport
import Foundation
import Testing

@Suite struct SettingsReaderTests {
    struct Configuration: Sendable {
        var port = 1
        var host = "default"
        var endpoints: [String] = []
        var dryRun = false
    }

    let reader = SettingsReader<Configuration>(command: "coffer-test", abstract: "a test", environmentPrefix: "COFFER_T", settings: [
        .number("port", "The port.", in: 0...65_535) { $0.port = $1 },
        .text("host", "The host.") { $0.host = $1 },
        .list("database", "Endpoints.") { $0.endpoints = $1 },
        .switch("dry-run", "Do nothing.") { $0.dryRun = $1 },
    ])

    func file(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "coffer-reader-\(UUID().uuidString).conf"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func read(_ arguments: [String], _ environment: [String: String] = [:]) throws -> Configuration {
        guard case .configuration(let configuration) = try reader.read(arguments: arguments, environment: environment, defaults: Configuration()) else {
            throw SettingsError("help")
        }
        return configuration
    }

    @Test("one table reads the file, then the environment, then flags; a repeated flag makes a list")
    func precedence() throws {
        let path = try file("port = 9000\nhost = from-file\ndatabase = tcp://a:1, tcp://b:2\n")
        let fromFile = try read(["--config", path])
        #expect(fromFile.port == 9000 && fromFile.host == "from-file" && fromFile.endpoints == ["tcp://a:1", "tcp://b:2"])
        let overridden = try read(["--config", path, "--port=7", "--database", "tcp://c:3", "--database", "tcp://d:4", "--dry-run"], ["COFFER_T_HOST": "from-env"])
        #expect(overridden.port == 7 && overridden.host == "from-env" && overridden.endpoints == ["tcp://c:3", "tcp://d:4"] && overridden.dryRun)
        #expect(try read([]).port == 1, "defaults stand when nothing is said")
    }

    @Test("an unknown key in the file, the environment or a flag is refused with its place named, never ignored")
    func unknownKeys() throws {
        let typo = try file("port = 1\nprot = 2\n")
        let inFile = #expect(throws: SettingsError.self) { try read(["--config", typo]) }
        #expect(inFile?.description.contains("'prot' is not a setting") == true, "\(String(describing: inFile))")
        let inEnvironment = #expect(throws: SettingsError.self) { try read([], ["COFFER_T_HOTS": "x"]) }
        #expect(inEnvironment?.description.contains("COFFER_T_HOTS") == true, "\(String(describing: inEnvironment))")
        let flag = #expect(throws: SettingsError.self) { try read(["--hots", "x"]) }
        #expect(flag?.description.contains("unknown option --hots") == true)
        #expect(throws: SettingsError.self) { try read(["--port"]) }
        #expect(throws: SettingsError.self) { try read(["stray"]) }
    }

    @Test("a value out of its range or of the wrong kind is refused; --help lists every setting")
    func valuesAndHelp() throws {
        #expect(throws: SettingsError.self) { try read(["--port", "eighty"]) }
        #expect(throws: SettingsError.self) { try read(["--port", "70000"]) }
        #expect(throws: SettingsError.self) { try read(["--config", try file("dry-run = maybe\n")]) }
        guard case .help(let text) = try reader.read(arguments: ["--help"], environment: [:], defaults: Configuration()) else {
            Issue.record("no help")
            return
        }
        for key in ["--port VALUE", "--host VALUE", "--database VALUE", "--dry-run", "COFFER_T_<KEY>"] { #expect(text.contains(key), "\(key)") }
    }
}
