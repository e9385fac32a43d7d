import Foundation

/// Checks RFC 9162 proofs (§2.1.3.2 and §2.1.4.2) against roots. Needs only the proof and the roots.
public enum MerkleProof {
    /// Decodes proof hashes written in base64, refusing any that is not 32 bytes.
    public static func hashes(base64: [String]) throws -> [[UInt8]] {
        try base64.map { text in
            guard let bytes = Data(base64Encoded: text), bytes.count == MerkleHash.size else { throw MerkleError.proofFailed("a proof hash is malformed") }
            return Array(bytes)
        }
    }

    /// Checks that `leafHash` is leaf `index` of the tree of `size` leaves whose root is `root`.
    public static func verifyInclusion(leafHash: [UInt8], index: Int64, size: Int64, proof: [[UInt8]], root: [UInt8]) throws {
        guard index >= 0, index < size else { throw MerkleError.proofFailed("leaf \(index) is not in a tree of \(size) leaves") }
        var fn = index
        var sn = size - 1
        var r = leafHash
        for p in proof {
            guard p.count == MerkleHash.size, sn != 0 else { throw MerkleError.proofFailed("the inclusion proof of leaf \(index) is malformed") }
            if fn & 1 == 1 || fn == sn {
                r = MerkleHash.node(p, r)
                while fn & 1 == 0, fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                r = MerkleHash.node(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0, r == root else {
            throw MerkleError.proofFailed("leaf \(index) is not in the tree of \(size) leaves with that root")
        }
    }

    /// Checks that the tree of `oldSize` leaves with root `oldRoot` is a prefix of the tree of
    /// `newSize` leaves with root `newRoot`.
    public static func verifyConsistency(oldSize: Int64, newSize: Int64, oldRoot: [UInt8], newRoot: [UInt8], proof: [[UInt8]]) throws {
        guard oldSize >= 0, oldSize <= newSize else {
            throw MerkleError.proofFailed("the tree shrank from \(oldSize) to \(newSize) leaves")
        }
        if oldSize == newSize {
            guard proof.isEmpty, oldRoot == newRoot else {
                throw MerkleError.proofFailed("two different roots for the same tree size \(newSize)")
            }
            return
        }
        if oldSize == 0 {
            guard proof.isEmpty else { throw MerkleError.proofFailed("a consistency proof from the empty tree must be empty") }
            return
        }
        guard !proof.isEmpty, proof.allSatisfy({ $0.count == MerkleHash.size }) else {
            throw MerkleError.proofFailed("the consistency proof from \(oldSize) to \(newSize) leaves is malformed")
        }
        var path = proof
        if oldSize & (oldSize - 1) == 0 { path.insert(oldRoot, at: 0) }
        var fn = oldSize - 1
        var sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        for c in path.dropFirst() {
            guard sn != 0 else { throw MerkleError.proofFailed("the consistency proof from \(oldSize) to \(newSize) leaves is too long") }
            if fn & 1 == 1 || fn == sn {
                fr = MerkleHash.node(c, fr)
                sr = MerkleHash.node(c, sr)
                while fn & 1 == 0, fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                sr = MerkleHash.node(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0, fr == oldRoot, sr == newRoot else {
            throw MerkleError.proofFailed("the tree of \(newSize) leaves does not extend the tree of \(oldSize) leaves: the history was rewritten")
        }
    }
}
