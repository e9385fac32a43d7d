/// Which file names a record may carry.
///
/// A name is shown to people (`coffer list`, `coffer history`, audit exports) and used as a file
/// name on disk, so it may hold no `/`, and no scalar that does not show as itself: Unicode
/// categories Cc (controls, C1 included), Cf (format: bidi overrides, zero-width characters), Zl
/// and Zp (line and paragraph separators).
public enum FileNameRule {
    /// The longest name, in UTF-8 bytes (the usual file-system limit).
    public static let maxBytes = 255

    /// Whether `name` may be recorded by a new save: 1–255 UTF-8 bytes, not `.` or `..`, no `/`,
    /// no scalar of category Cc, Cf, Zl or Zp.
    public static func isValid(_ name: String) -> Bool {
        isValidRecorded(name) && !name.unicodeScalars.contains(where: isRefused)
    }

    /// Whether `name` may name an existing record: the rule before the Unicode categories were
    /// refused (no `/`, no C0 control or DEL), so that files saved under it still open.
    public static func isValidRecorded(_ name: String) -> Bool {
        guard (1...maxBytes).contains(name.utf8.count), name != ".", name != ".." else { return false }
        return !name.unicodeScalars.contains { $0 == "/" || $0.value < 0x20 || $0.value == 0x7F }
    }

    /// Whether a new name may not contain `scalar`: categories Cc, Cf, Zl and Zp.
    public static func isRefused(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }
}
