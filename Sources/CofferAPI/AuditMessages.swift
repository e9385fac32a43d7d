public import Crypto
import Foundation

// The JSON bodies of the audit endpoints (docs/AUDIT.md, docs/api/openapi.yaml).

/// `POST /v1/audit/checkpoint` answer: the newest signed checkpoint of the audit log.
public struct AuditCheckpointResponse: Codable, Sendable {
    /// The C2SP signed note of the checkpoint, as signed.
    public var checkpoint: String
    /// The checkpoint verifier key, `name+hash+base64`.
    public var verifierKey: String
    /// Base64 DER ECDSA signature by the server identity key over ``AuditKeyStatement/message(verifierKey:)``:
    /// a client that pinned the identity key learns the checkpoint key from it.
    public var verifierKeySignature: String
    /// The indexes of the log's `restore` entries below the checkpoint's size, newest first (at
    /// most 16), when it has any: any user may prove them (docs/AUDIT.md, Restores).
    public var restores: [Int64]?
    public init(checkpoint: String, verifierKey: String, verifierKeySignature: String, restores: [Int64]? = nil) {
        self.checkpoint = checkpoint
        self.verifierKey = verifierKey
        self.verifierKeySignature = verifierKeySignature
        self.restores = restores
    }
}

/// `POST /v1/audit/proofs` request: proofs for the caller's own entries at one tree size.
public struct AuditProofsRequest: Codable, Sendable {
    /// The size of a checkpoint the caller holds.
    public var treeSize: Int64
    /// An older checkpoint's size to prove consistency from.
    public var fromSize: Int64?
    /// Indexes of the caller's entries, at most 1000.
    public var indexes: [Int64]
    public init(treeSize: Int64, fromSize: Int64?, indexes: [Int64]) {
        self.treeSize = treeSize
        self.fromSize = fromSize
        self.indexes = indexes
    }

    private enum CodingKeys: String, CodingKey { case treeSize, fromSize, indexes }

    /// `fromSize` may be absent but not `null`, as docs/api/openapi.yaml says.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        treeSize = try container.decode(Int64.self, forKey: .treeSize)
        fromSize = container.contains(.fromSize) ? try container.decode(Int64.self, forKey: .fromSize) : nil
        indexes = try container.decode([Int64].self, forKey: .indexes)
    }
}

/// One entry's inclusion proof.
public struct AuditInclusionProof: Codable, Sendable {
    public var index: Int64
    /// Base64 leaf bytes.
    public var leaf: String
    /// Base64 hashes, RFC 9162 order.
    public var proof: [String]
    public init(index: Int64, leaf: String, proof: [String]) {
        self.index = index
        self.leaf = leaf
        self.proof = proof
    }
}

/// `POST /v1/audit/proofs` answer.
public struct AuditProofsResponse: Codable, Sendable {
    public var treeSize: Int64
    /// Base64 root hash of the tree of ``treeSize`` entries.
    public var rootHash: String
    public var inclusion: [AuditInclusionProof]
    /// Base64 hashes of the consistency proof from the request's `fromSize`, when it asked.
    public var consistency: [String]?
    public init(treeSize: Int64, rootHash: String, inclusion: [AuditInclusionProof], consistency: [String]?) {
        self.treeSize = treeSize
        self.rootHash = rootHash
        self.inclusion = inclusion
        self.consistency = consistency
    }
}

/// The identity key's statement that names the checkpoint key.
public enum AuditKeyStatement {
    /// The signed message: a domain line, then the verifier key and a newline.
    public static func message(verifierKey: String) -> [UInt8] {
        Array("coffer audit key v1\n\(verifierKey)\n".utf8)
    }

    /// Checks the statement with the pinned identity key.
    public static func isValid(_ answer: AuditCheckpointResponse, identityKey: P256.Signing.PublicKey) -> Bool {
        guard let der = Data(base64Encoded: answer.verifierKeySignature),
              let signature = try? P256.Signing.ECDSASignature(derRepresentation: der)
        else { return false }
        return identityKey.isValidSignature(signature, for: message(verifierKey: answer.verifierKey))
    }
}

/// `POST /v1/audit/checkpoint` request: an empty JSON object (the request is signed like any other).
public struct AuditCheckpointRequest: Codable, Sendable {
    public init() {}

    private enum CodingKeys: CodingKey {}

    /// Refuses anything but a JSON object (the synthesized decoder of an empty type accepts any value).
    public init(from decoder: any Decoder) throws {
        _ = try decoder.container(keyedBy: CodingKeys.self)
    }
}
