import CofferServerSupport
import Foundation
import Testing

@Suite struct SettingsFileTests {
    func file(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "coffer-settings-\(UUID().uuidString).conf"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("the file is read first, the environment overrides it, and flags override both")
    func precedence() throws {
        let path = try file("# comment\nport = 9000\nhost = 10.0.0.1 # trailing comment\ndatabase = tcp://a:1, tcp://b:2\n\n")
        let settings = try SettingsFile(path: path, environmentPrefix: "COFFER_T", environment: ["COFFER_T_HOST": "127.0.0.2", "OTHER_HOST": "x"])
        #expect(try settings.int("port", flag: nil) == 9000)
        #expect(try settings.int("port", flag: 1) == 1)
        #expect(settings.string("host", flag: nil) == "127.0.0.2")
        #expect(settings.string("host", flag: "::1") == "::1")
        #expect(settings.list("database", flag: []) == ["tcp://a:1", "tcp://b:2"])
        #expect(settings.list("database", flag: ["tcp://c:3"]) == ["tcp://c:3"])
        #expect(settings.string("missing", flag: nil) == nil)
    }

    @Test("environment names map to keys: PREFIX_DATABASE_TIMEOUT is database-timeout")
    func environmentNames() throws {
        let settings = try SettingsFile(path: nil, environmentPrefix: "COFFER_T", environment: ["COFFER_T_DATABASE_TIMEOUT": "7"])
        #expect(try settings.int("database-timeout", flag: nil) == 7)
    }

    @Test("a line without '=', a non-number and a missing file are refused with the place named")
    func errors() throws {
        let bad = try file("port = 1\nthis is not a setting\n")
        let error = #expect(throws: SettingsError.self) { try SettingsFile(path: bad, environmentPrefix: "X", environment: [:]) }
        #expect(error?.description.contains(":2:") == true)
        let word = try SettingsFile(path: try file("port = eighty\n"), environmentPrefix: "X", environment: [:])
        #expect(throws: SettingsError.self) { try word.int("port", flag: nil) }
        #expect(throws: SettingsError.self) { try SettingsFile(path: "/nonexistent/coffer.conf", environmentPrefix: "X", environment: [:]) }
    }
}
