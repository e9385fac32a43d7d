public import Crypto
import Foundation

/// An identity key rotation: the previous identity key's signed statement that the next key is the
/// key service's identity from a given moment. A client that pinned the previous key takes the next
/// one only through such a statement; the server serves the statements that lead to the key it
/// presents, so a client that has not connected for several rotations follows them in order.
public struct IdentityRotation: Codable, Sendable, Equatable {
    /// Base64 DER SubjectPublicKeyInfo of the key being retired.
    public var previousKey: String
    /// Base64 DER SubjectPublicKeyInfo of the key that takes over.
    public var nextKey: String
    /// When the next key takes over, Unix milliseconds.
    public var from: Int64
    /// Base64 DER ECDSA by the previous key over ``message``.
    public var signature: String

    public init(previousKey: String, nextKey: String, from: Int64, signature: String) {
        self.previousKey = previousKey
        self.nextKey = nextKey
        self.from = from
        self.signature = signature
    }

    /// The signed bytes: a domain line, both keys' fingerprints and the moment, one per line.
    public static func message(previous: P256.Signing.PublicKey, next: P256.Signing.PublicKey, from: Int64) -> [UInt8] {
        Array("coffer identity rotation v1\n\(ServerIdentity.fingerprint(of: previous))\n\(ServerIdentity.fingerprint(of: next))\n\(from)\n".utf8)
    }

    /// The statement that `next` follows `previous` from `from`, signed by `sign` (the previous key).
    public static func make(previous: P256.Signing.PublicKey, next: P256.Signing.PublicKey, from: Int64,
                            sign: ([UInt8]) throws -> P256.Signing.ECDSASignature) throws -> IdentityRotation {
        IdentityRotation(previousKey: previous.derRepresentation.base64EncodedString(), nextKey: next.derRepresentation.base64EncodedString(),
                         from: from, signature: try sign(message(previous: previous, next: next, from: from)).derRepresentation.base64EncodedString())
    }

    /// One statement checked: it and the fingerprints of the two keys it joins.
    public struct Step: Sendable, Equatable {
        public let statement: IdentityRotation
        public let previous: String
        public let next: String
    }

    /// The most statements a path is looked for in; more are refused whole, unverified.
    public static let maxStatements = 64

    /// The statement with its keys' fingerprints, when it parses and its signature by the previous key holds.
    public var verified: Step? {
        guard let previousDER = Data(base64Encoded: previousKey), let previous = try? P256.Signing.PublicKey(derRepresentation: previousDER),
              let nextDER = Data(base64Encoded: nextKey), let next = try? P256.Signing.PublicKey(derRepresentation: nextDER),
              let signatureDER = Data(base64Encoded: signature),
              let ecdsa = try? P256.Signing.ECDSASignature(derRepresentation: signatureDER),
              previous.isValidSignature(ecdsa, for: Self.message(previous: previous, next: next, from: from)),
              previous.derRepresentation != next.derRepresentation
        else { return nil }
        return Step(statement: self, previous: ServerIdentity.fingerprint(of: previous), next: ServerIdentity.fingerprint(of: next))
    }

    /// The steps that lead from the key fingerprinted `pinned` to `presented`, oldest first, each a
    /// statement signed by the key reached so far and, with `nowMs`, in force by then (allowing the
    /// request clock skew); nil when `statements` hold no such path or more than ``maxStatements``.
    /// Each statement is verified once.
    public static func path(from pinned: String, to presented: String, through statements: [IdentityRotation], inForceBy nowMs: Int64?) -> [Step]? {
        guard statements.count <= maxStatements else { return nil }
        let steps = statements.compactMap(\.verified)
        var key = pinned
        var path: [Step] = []
        // A path is never longer than the list: a cycle of statements ends here too.
        let latest = nowMs.map { $0 + RequestSignature.maxClockSkewMs } ?? .max
        while key != presented {
            guard path.count < steps.count, let step = steps.first(where: { $0.previous == key && $0.statement.from <= latest }) else { return nil }
            path.append(step)
            key = step.next
        }
        return path
    }
}
