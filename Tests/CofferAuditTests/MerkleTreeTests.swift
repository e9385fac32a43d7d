import CofferAudit
import Testing

/// The RFC 6962 / RFC 9162 test vectors used across Certificate Transparency implementations:
/// eight leaves, the roots of their prefixes, and known inclusion and consistency proofs.
enum RFCVectors {
    static let leaves: [[UInt8]] = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(hex)
    static let roots: [[UInt8]] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ].map(hex)
    /// (leaf index, tree size, proof)
    static let inclusion: [(Int64, Int64, [[UInt8]])] = [
        (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"].map(hex)),
        (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"].map(hex)),
        (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"].map(hex)),
        (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"].map(hex)),
    ]
    /// (old size, new size, proof)
    static let consistency: [(Int64, Int64, [[UInt8]])] = [
        (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"].map(hex)),
        (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"].map(hex)),
        (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"].map(hex)),
        (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"].map(hex)),
    ]

    static var tree: MemoryMerkleTree {
        var tree = MemoryMerkleTree()
        for leaf in leaves { tree.append(leaf: leaf) }
        return tree
    }
}

func hex(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        out.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return out
}

@Suite struct MerkleTreeTests {
    @Test func rootsMatchTheRFCVectors() throws {
        let tree = RFCVectors.tree
        for size in 1...8 {
            #expect(try tree.rootHash(size: Int64(size)) == RFCVectors.roots[size - 1], "root of \(size) leaves")
        }
        #expect(try tree.rootHash(size: 0) == hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
    }

    @Test func inclusionProofsMatchTheRFCVectorsAndVerify() throws {
        let tree = RFCVectors.tree.tree
        for (index, size, expected) in RFCVectors.inclusion {
            let proof = try tree.inclusionProof(index: index, size: size)
            #expect(proof == expected, "proof of leaf \(index) in \(size)")
            try MerkleProof.verifyInclusion(
                leafHash: MerkleHash.leaf(RFCVectors.leaves[Int(index)]), index: index, size: size, proof: proof,
                root: RFCVectors.roots[Int(size) - 1]
            )
        }
    }

    @Test func consistencyProofsMatchTheRFCVectorsAndVerify() throws {
        let tree = RFCVectors.tree.tree
        for (old, new, expected) in RFCVectors.consistency {
            let proof = try tree.consistencyProof(oldSize: old, newSize: new)
            #expect(proof == expected, "proof from \(old) to \(new)")
            try MerkleProof.verifyConsistency(oldSize: old, newSize: new, oldRoot: RFCVectors.roots[Int(old) - 1], newRoot: RFCVectors.roots[Int(new) - 1], proof: proof)
        }
    }

    @Test func corruptedInclusionProofsAreRefused() throws {
        for (index, size, proof) in RFCVectors.inclusion {
            let leaf = MerkleHash.leaf(RFCVectors.leaves[Int(index)])
            let root = RFCVectors.roots[Int(size) - 1]
            var probes: [(Int64, Int64, [UInt8], [[UInt8]], [UInt8])] = [
                (index + 1, size, leaf, proof, root), (index ^ 2, size, leaf, proof, root),
                (index, size * 2, leaf, proof, root), (index, size / 2, leaf, proof, root),
                (index, size, MerkleHash.leaf([9]), proof, root), (index, size, leaf, proof, MerkleHash.empty),
                (index, size, leaf, proof + [root], root), (index, size, leaf, [root] + proof, root),
                (index, size, leaf, proof + [[]], root), (index, size, leaf, Array(proof.dropLast()), root),
            ]
            if index > 0 { probes.append((index - 1, size, leaf, proof, root)) }
            for i in proof.indices {
                var flipped = proof
                flipped[i][0] ^= 8
                probes.append((index, size, leaf, flipped, root))
            }
            for (i, s, l, p, r) in probes {
                #expect(throws: MerkleError.self) { try MerkleProof.verifyInclusion(leafHash: l, index: i, size: s, proof: p, root: r) }
            }
        }
    }

    @Test func corruptedConsistencyProofsAreRefused() throws {
        for (old, new, proof) in RFCVectors.consistency {
            let r1 = RFCVectors.roots[Int(old) - 1]
            let r2 = RFCVectors.roots[Int(new) - 1]
            var probes: [(Int64, Int64, [UInt8], [UInt8], [[UInt8]])] = [
                (old - 1, new, r1, r2, proof), (old + 1, new, r1, r2, proof), (old ^ 2, new, r1, r2, proof),
                (old, new * 2, r1, r2, proof), (old, new / 2, r1, r2, proof),
                (old, new, MerkleHash.empty, r2, proof), (old, new, r1, MerkleHash.empty, proof), (old, new, r2, r1, proof),
                (old, new, r1, r2, []), (old, new, r1, r2, proof + [r1]), (old, new, r1, r2, proof + [r2]),
                (old, new, r1, r2, [r1] + proof), (old, new, r1, r2, [proof[0]] + proof), (old, new, r1, r2, Array(proof.dropLast())),
                (new, old, r2, r1, proof),
            ]
            for i in proof.indices {
                var flipped = proof
                flipped[i][0] ^= 16
                probes.append((old, new, r1, r2, flipped))
            }
            for (o, n, a, b, p) in probes where !(o == n && a == b) {
                #expect(throws: MerkleError.self) { try MerkleProof.verifyConsistency(oldSize: o, newSize: n, oldRoot: a, newRoot: b, proof: p) }
            }
        }
    }

    @Test func everyProofOfSmallTreesVerifies() throws {
        var tree = MemoryMerkleTree()
        for n in 0..<40 { tree.append(leaf: Array("leaf \(n)".utf8)) }
        let merkle = tree.tree
        for size in Int64(1)...40 {
            let root = try merkle.rootHash(size: size)
            for index in 0..<size {
                let proof = try merkle.inclusionProof(index: index, size: size)
                try MerkleProof.verifyInclusion(leafHash: MerkleHash.leaf(Array("leaf \(index)".utf8)), index: index, size: size, proof: proof, root: root)
            }
            for old in 0...size {
                let proof = try merkle.consistencyProof(oldSize: old, newSize: size)
                try MerkleProof.verifyConsistency(oldSize: old, newSize: size, oldRoot: try merkle.rootHash(size: old), newRoot: root, proof: proof)
            }
        }
    }

    @Test func aRewrittenPrefixFailsConsistency() throws {
        var honest = MemoryMerkleTree()
        var rewritten = MemoryMerkleTree()
        for n in 0..<20 {
            honest.append(leaf: Array("entry \(n)".utf8))
            rewritten.append(leaf: Array(n == 7 ? "entry 7, edited".utf8 : "entry \(n)".utf8))
        }
        let oldRoot = try honest.rootHash(size: 12)
        let proof = try rewritten.tree.consistencyProof(oldSize: 12, newSize: 20)
        #expect(throws: MerkleError.self) {
            try MerkleProof.verifyConsistency(oldSize: 12, newSize: 20, oldRoot: oldRoot, newRoot: try rewritten.rootHash(), proof: proof)
        }
    }

    @Test func proofsOutsideTheTreeAreRefused() throws {
        let tree = RFCVectors.tree.tree
        #expect(throws: MerkleError.self) { try tree.inclusionProof(index: 8, size: 8) }
        #expect(throws: MerkleError.self) { try tree.consistencyProof(oldSize: 5, newSize: 4) }
        #expect(throws: MerkleError.self) { try tree.rootHash(size: 9) }
    }
}
