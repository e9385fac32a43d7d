import Foundation

/// Record ids: 16 random bytes, shown as lowercase UUID text.
public enum RecordID {
    /// A fresh random record id.
    public static func random() -> [UInt8] {
        let uuid = UUID().uuid
        return withUnsafeBytes(of: uuid) { Array($0) }
    }

    /// The lowercase UUID text of a 16-byte id; `nil` for any other length (an id from another tier
    /// is checked here, never trusted to be 16 bytes).
    public static func text(_ bytes: [UInt8]) -> String? {
        guard bytes.count == 16 else { return nil }
        let uuid = bytes.withUnsafeBytes { $0.loadUnaligned(as: uuid_t.self) }
        return UUID(uuid: uuid).uuidString.lowercased()
    }

    /// The 16 bytes of UUID text; `nil` if it is not a UUID.
    public static func bytes(_ text: String) -> [UInt8]? {
        guard let uuid = UUID(uuidString: text) else { return nil }
        return withUnsafeBytes(of: uuid.uuid) { Array($0) }
    }
}
