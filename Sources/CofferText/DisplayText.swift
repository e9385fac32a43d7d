/// Text that came from outside, as a person sees it.
///
/// File names, history details and server messages are hostile until shown safely: a bidirectional
/// override turns `invoice‮fdp.exe` into `invoiceexe.pdf` on screen, a CSI sequence rewrites the
/// terminal, and a zero-width character makes two different names look the same. Every place that
/// shows such text to a person escapes the scalars that do not print as themselves.
public enum DisplayText {
    /// Whether `scalar` must never be shown raw: controls (C0, DEL, C1), format characters (bidi
    /// controls, zero-width characters), line and paragraph separators, unassigned and private-use
    /// code points, and every space but U+0020.
    public static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value >= 0x20 && scalar.value < 0x7F { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .unassigned, .privateUse, .surrogate, .spaceSeparator:
            return true
        default:
            return false
        }
    }

    /// `text` for a terminal: hidden scalars as `\u{XXXX}` and a backslash doubled, so that the
    /// escaped form cannot be faked by a name that spells it out.
    ///
    /// - Parameter keepNewlines: Leave `\n` as it is (for text this program laid out in lines).
    public static func terminal(_ text: String, keepNewlines: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "\\" || isHidden($0) }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\\" {
                out.append(contentsOf: "\\\\".unicodeScalars)
            } else if isHidden(scalar) && !(keepNewlines && scalar == "\n") {
                out.append(contentsOf: "\\u{\(hex(scalar.value, width: 4))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// JSON text with every hidden scalar inside its strings written as a `\uXXXX` escape (a
    /// surrogate pair beyond U+FFFF): the same JSON value, safe to show on a terminal.
    ///
    /// Outside strings JSON has only ASCII, so every hidden scalar is inside a string.
    public static func escapingJSON(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: { $0.value >= 0x7F && isHidden($0) }) else { return json }
        var out = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            guard scalar.value >= 0x7F, isHidden(scalar) else {
                out.append(scalar)
                continue
            }
            for unit in String(scalar).utf16 {
                out.append(contentsOf: "\\u\(hex(UInt32(unit), width: 4))".unicodeScalars)
            }
        }
        return String(out)
    }

    /// `text` as a JSON string's contents (RFC 8259), with every hidden scalar escaped.
    public static func appendJSONString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where isHidden(scalar):
                for unit in String(scalar).utf16 { out += "\\u" + hex(UInt32(unit), width: 4) }
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
