import Crypto

/// RFC 9162 §2.1.1 hashing with SHA-256: leaves are prefixed with 0x00, interior nodes with 0x01.
public enum MerkleHash {
    /// The size of every hash in the tree.
    public static let size = 32

    /// `SHA-256(0x00 || leaf)`.
    public static func leaf(_ leaf: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: leaf)
        return Array(hasher.finalize())
    }

    /// `SHA-256(0x01 || left || right)`.
    public static func node(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The root of the empty tree: `SHA-256()` of nothing.
    public static var empty: [UInt8] { Array(SHA256.hash(data: [UInt8]())) }
}

/// Where a complete subtree sits: `level` is log2 of its leaf count, `index` its position at that level.
///
/// Node `(level, index)` covers leaves `[index << level, (index + 1) << level)`. These are the only
/// hashes the log stores; every other hash is computed from them.
public struct MerkleNodeID: Hashable, Sendable {
    public var level: Int
    public var index: Int64
    public init(level: Int, index: Int64) {
        self.level = level
        self.index = index
    }
}
