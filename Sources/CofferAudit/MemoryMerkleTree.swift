/// A whole tree held in memory: for checking an exported log and for tests.
public struct MemoryMerkleTree: Sendable {
    private var nodes: [MerkleNodeID: [UInt8]] = [:]
    /// The number of leaves.
    public private(set) var size: Int64 = 0

    public init() {}

    /// Appends the leaf whose bytes are `leaf`.
    public mutating func append(leaf: [UInt8]) {
        append(leafHash: MerkleHash.leaf(leaf))
    }

    /// Appends a leaf by its hash, storing the complete subtrees it closes.
    public mutating func append(leafHash: [UInt8]) {
        var hash = leafHash
        var level = 0
        var position = size
        nodes[MerkleNodeID(level: 0, index: position)] = hash
        while position & 1 == 1, let left = nodes[MerkleNodeID(level: level, index: position - 1)] {
            hash = MerkleHash.node(left, hash)
            level += 1
            position >>= 1
            nodes[MerkleNodeID(level: level, index: position)] = hash
        }
        size += 1
    }

    /// The tree algorithms over this tree's nodes.
    public var tree: MerkleTree {
        let stored = nodes
        return MerkleTree { id in
            guard let hash = stored[id] else { throw MerkleError.missingNode(id) }
            return hash
        }
    }

    /// The root of the first `size` leaves.
    public func rootHash(size: Int64? = nil) throws -> [UInt8] {
        try tree.rootHash(size: size ?? self.size)
    }
}
