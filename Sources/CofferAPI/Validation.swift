public import Foundation

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

    /// Whether `name` is a valid file name to record: 1–255 UTF-8 bytes, no `/`, no control characters.
    public static func isValidFileName(_ name: String) -> Bool {
        guard (1...255).contains(name.utf8.count), name != ".", name != ".." else { return false }
        return !name.unicodeScalars.contains { $0 == "/" || $0.value < 0x20 || $0.value == 0x7F }
    }

    /// Whether `hex` is 64 lowercase hex digits.
    public static func isSHA256Hex(_ hex: String) -> Bool {
        hex.utf8.count == 64 && hex.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}
