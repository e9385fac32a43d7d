import Foundation
import CofferText

/// Checks on values that come from outside, shared by the client and the transaction tier.
public enum Validation {
    /// The largest password accepted, in UTF-8 bytes.
    public static let maxPasswordBytes = 1024
    /// The smallest password accepted, in characters.
    public static let minPasswordLength = 8

    /// Whether `name` is a valid user name: 1–64 of `a-z 0-9 . _ -`, starting with a letter or digit.
    public static func isValidUserName(_ name: String) -> Bool {
        guard (1...64).contains(name.utf8.count), let first = name.utf8.first else { return false }
        let allowed = { (c: UInt8) in (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 46 || c == 95 || c == 45 }
        return allowed(first) && first != 46 && first != 95 && first != 45 && name.utf8.allSatisfy(allowed)
    }

    /// Why `password` is unacceptable, or `nil` when it is fine.
    public static func passwordProblem(_ password: String) -> String? {
        if password.count < minPasswordLength { return "the password must have at least \(minPasswordLength) characters" }
        if password.utf8.count > maxPasswordBytes { return "the password must have at most \(maxPasswordBytes) bytes" }
        return nil
    }

    /// Whether `name` may be recorded by a new save: 1–255 UTF-8 bytes, not `.` or `..`, no `/`,
    /// and no scalar of Unicode category Cc, Cf, Zl or Zp (controls, bidi and zero-width format
    /// characters, line and paragraph separators).
    public static func isValidFileName(_ name: String) -> Bool { FileNameRule.isValid(name) }

    /// Whether `name` may name an existing record: new saves follow ``isValidFileName(_:)``, but
    /// records saved before it refused the Unicode categories still open.
    public static func isValidRecordedFileName(_ name: String) -> Bool { FileNameRule.isValidRecorded(name) }

    /// What a file name may not contain, for messages.
    public static let fileNameRule = "1-255 UTF-8 bytes with no '/', no control characters (C0 or C1), no format characters such as bidirectional overrides or zero-width characters, and no line or paragraph separators"

    /// Whether `hex` is 64 lowercase hex digits.
    public static func isSHA256Hex(_ hex: String) -> Bool {
        hex.utf8.count == 64 && hex.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}
