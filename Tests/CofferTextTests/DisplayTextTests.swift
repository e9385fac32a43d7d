import CofferText
import Foundation
import Testing

@Suite struct DisplayTextTests {
    /// Names the outside attack used: a bidi override, C1 controls, separators, zero-width characters.
    static let hostile = ["invoice\u{202E}fdp.exe", "a\u{9B}2Jb", "a\u{85}b", "a\u{2028}b", "a\u{2029}b", "a\u{200B}b", "a\u{FEFF}b", "a\u{2066}b\u{2069}", "a\u{AD}b"]

    @Test("new file names refuse C1 controls, bidi overrides, zero-width characters and line or paragraph separators")
    func refusesHiddenScalars() {
        for name in Self.hostile {
            #expect(!FileNameRule.isValid(name), "\(name.unicodeScalars.map { String($0.value, radix: 16) })")
            #expect(FileNameRule.isValidRecorded(name), "names recorded under the old rule still open")
        }
        for name in ["report.pdf", "Prüfbericht 2026.pdf", "見積書.xlsx", "x y", String(repeating: "é", count: 127), "emoji 🗂.txt"] {
            #expect(FileNameRule.isValid(name), "\(name)")
        }
        for name in ["", ".", "..", "a/b", "a\u{0}b", "a\u{1B}[2Jb", "a\u{7F}b", String(repeating: "a", count: 256)] {
            #expect(!FileNameRule.isValid(name))
            #expect(!FileNameRule.isValidRecorded(name))
        }
        #expect(FileNameRule.isValid(String(repeating: "a", count: 255)))
    }

    @Test("a terminal shows every hidden scalar as an escape and a backslash doubled, so no name can fake another")
    func terminalEscapes() {
        #expect(DisplayText.terminal("invoice\u{202E}fdp.exe") == "invoice\\u{202e}fdp.exe")
        #expect(DisplayText.terminal("a\u{9B}2J") == "a\\u{009b}2J")
        #expect(DisplayText.terminal("line\nbreak") == "line\\u{000a}break")
        #expect(DisplayText.terminal("line\nbreak", keepNewlines: true) == "line\nbreak")
        #expect(DisplayText.terminal("no\u{00A0}break") == "no\\u{00a0}break")
        #expect(DisplayText.terminal("spelled \\u{202e}") == "spelled \\\\u{202e}", "a name that spells an escape is told apart")
        #expect(DisplayText.terminal("Prüfbericht 見積書 🗂") == "Prüfbericht 見積書 🗂")
        for name in Self.hostile {
            #expect(!DisplayText.terminal(name).unicodeScalars.contains { $0.value >= 0x7F && DisplayText.isHidden($0) })
        }
    }

    @Test("JSON keeps its value but carries hidden scalars as \\u escapes, surrogate pairs beyond U+FFFF")
    func jsonEscapes() throws {
        let value = ["name": "invoice\u{202E}fdp.exe \u{E0001} ok é"]
        let raw = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        let escaped = DisplayText.escapingJSON(raw)
        #expect(escaped.contains("\\u202e"))
        #expect(escaped.contains("\\udb40\\udc01"))
        #expect(escaped.contains("é"))
        #expect(escaped.unicodeScalars.allSatisfy { $0.value < 0x7F || !DisplayText.isHidden($0) })
        #expect(try JSONDecoder().decode([String: String].self, from: Data(escaped.utf8)) == value)

        var built = ""
        DisplayText.appendJSONString("q\"\\\n\u{1}\u{85}\u{202E}", to: &built)
        #expect(built == #""q\"\\\n\u0001\u0085\u202e""#)
        #expect(try JSONDecoder().decode(String.self, from: Data(built.utf8)) == "q\"\\\n\u{1}\u{85}\u{202E}")
    }
}
