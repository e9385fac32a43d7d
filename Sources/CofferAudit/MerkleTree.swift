/// The Merkle tree algorithms of RFC 9162 §2.1 over stored complete-subtree hashes.
///
/// The reader returns the hash of a complete subtree (see ``MerkleNodeID``); it is called
/// O(log n) times per root and O(log² n) times per proof, so a database-backed reader works.
public struct MerkleTree {
    /// Reads the stored hash of a complete subtree; throws when it is missing.
    public typealias Reader = (MerkleNodeID) throws -> [UInt8]

    private let read: Reader

    public init(reader: @escaping Reader) {
        self.read = reader
    }

    /// The new complete subtrees that appending leaf `index` with hash `leafHash` creates,
    /// the leaf itself first. `index` must be the current tree size.
    public func nodesForAppend(index: Int64, leafHash: [UInt8]) throws -> [(MerkleNodeID, [UInt8])] {
        var nodes = [(MerkleNodeID(level: 0, index: index), leafHash)]
        var hash = leafHash
        var level = 0
        var position = index
        while position & 1 == 1 {
            let left = try read(MerkleNodeID(level: level, index: position - 1))
            hash = MerkleHash.node(left, hash)
            level += 1
            position >>= 1
            nodes.append((MerkleNodeID(level: level, index: position), hash))
        }
        return nodes
    }

    /// The stored subtrees that ``nodesForAppend(index:leafHash:)`` reads when appending leaf
    /// `index`, so that a caller can fetch them all at once.
    public static func siblingsForAppend(index: Int64) -> [MerkleNodeID] {
        var siblings: [MerkleNodeID] = []
        var level = 0
        var position = index
        while position & 1 == 1 {
            siblings.append(MerkleNodeID(level: level, index: position - 1))
            level += 1
            position >>= 1
        }
        return siblings
    }

    /// MTH(D[0:size]): the root of the tree of the first `size` leaves.
    public func rootHash(size: Int64) throws -> [UInt8] {
        size == 0 ? MerkleHash.empty : try hash(0, size)
    }

    /// The RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size` leaves.
    public func inclusionProof(index: Int64, size: Int64) throws -> [[UInt8]] {
        guard index >= 0, index < size else { throw MerkleError.outOfRange("leaf \(index) is not in a tree of \(size) leaves") }
        return try path(index, 0, size)
    }

    /// The RFC 9162 §2.1.4.1 consistency proof between the trees of `oldSize` and `newSize` leaves.
    public func consistencyProof(oldSize: Int64, newSize: Int64) throws -> [[UInt8]] {
        guard oldSize >= 0, oldSize <= newSize else { throw MerkleError.outOfRange("no consistency proof from \(oldSize) to \(newSize) leaves") }
        if oldSize == 0 || oldSize == newSize { return [] }
        return try subproof(oldSize, 0, newSize, true)
    }

    /// MTH(D[lo:hi]).
    private func hash(_ lo: Int64, _ hi: Int64) throws -> [UInt8] {
        let n = hi - lo
        if n & (n - 1) == 0, lo % n == 0 {
            return try read(MerkleNodeID(level: n.trailingZeroBitCount, index: lo / n))
        }
        let k = Self.largestPowerOfTwo(below: n)
        return MerkleHash.node(try hash(lo, lo + k), try hash(lo + k, hi))
    }

    /// PATH(m, D[lo:hi]).
    private func path(_ m: Int64, _ lo: Int64, _ hi: Int64) throws -> [[UInt8]] {
        let n = hi - lo
        if n == 1 { return [] }
        let k = Self.largestPowerOfTwo(below: n)
        if m - lo < k {
            return try path(m, lo, lo + k) + [try hash(lo + k, hi)]
        }
        return try path(m, lo + k, hi) + [try hash(lo, lo + k)]
    }

    /// SUBPROOF(m, D[lo:hi], b), with m counted from lo.
    private func subproof(_ m: Int64, _ lo: Int64, _ hi: Int64, _ complete: Bool) throws -> [[UInt8]] {
        let n = hi - lo
        if m == n { return complete ? [] : [try hash(lo, hi)] }
        let k = Self.largestPowerOfTwo(below: n)
        if m <= k {
            return try subproof(m, lo, lo + k, complete) + [try hash(lo + k, hi)]
        }
        return try subproof(m - k, lo + k, hi, false) + [try hash(lo, lo + k)]
    }

    /// The largest power of two smaller than `n` (n > 1).
    static func largestPowerOfTwo(below n: Int64) -> Int64 {
        Int64(1) << (63 - (n - 1).leadingZeroBitCount)
    }
}

/// Why a tree operation or proof check failed.
public enum MerkleError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An index or size outside the tree.
    case outOfRange(String)
    /// A stored hash the computation needs is missing.
    case missingNode(MerkleNodeID)
    /// A proof does not lead to the expected root.
    case proofFailed(String)

    public var description: String {
        switch self {
        case .outOfRange(let message), .proofFailed(let message): message
        case .missingNode(let id): "the stored hash of subtree (level \(id.level), index \(id.index)) is missing"
        }
    }
}
