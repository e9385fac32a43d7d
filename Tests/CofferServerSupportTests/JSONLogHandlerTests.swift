@testable import CofferServerSupport
import Foundation
import Testing

@Suite struct JSONLogHandlerTests {
    @Test("a log line is one JSON object with sorted keys that any JSON reader decodes to the same strings")
    func lineDecodes() throws {
        let fields = [
            "message": "quote \" backslash \\ newline \n tab \t bell \u{07} snow ☃ slash /",
            "level": "info",
            "coffer.user": "zoë",
            "time": JSONLogHandler.timestamp(),
        ]
        let line = JSONLogHandler.line(fields)
        #expect(line.hasSuffix("}\n"))
        #expect(line.filter { $0 == "\n" }.count == 1, "a line holds no raw newline")
        let decoded = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        #expect(decoded == fields)
        let keys = ["coffer.user", "level", "message", "time"]
        let positions = keys.map { line.range(of: "\"\($0)\":")!.lowerBound }
        #expect(positions == positions.sorted())
    }

    @Test("hostile text (a bidi override, a C1 CSI, a line separator) reaches the log as \\u escapes, and decodes back unchanged")
    func hiddenScalarsAreEscaped() throws {
        let name = "invoice\u{202E}fdp.exe \u{9B}2J \u{2028} \u{200B}"
        let line = JSONLogHandler.line(["coffer.file_name": name])
        #expect(line.contains("\\u202e") && line.contains("\\u009b") && line.contains("\\u2028") && line.contains("\\u200b"), "\(line)")
        #expect(!line.unicodeScalars.contains { $0.value == 0x202E || $0.value == 0x9B || $0.value == 0x2028 || $0.value == 0x200B })
        let decoded = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        #expect(decoded == ["coffer.file_name": name])
    }

    @Test("the time is RFC 3339 UTC with milliseconds and matches the clock")
    func timestamp() throws {
        let text = JSONLogHandler.timestamp()
        #expect(text.count == 24 && text.hasSuffix("Z"), "\(text)")
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let parsed = try #require(parser.date(from: text))
        #expect(abs(parsed.timeIntervalSinceNow) < 60)
    }
}
