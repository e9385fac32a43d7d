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

    /// The previous key, when the statement parses and its signature by that key holds.
    public var verified: (previous: P256.Signing.PublicKey, next: P256.Signing.PublicKey)? {
        guard let previousDER = Data(base64Encoded: previousKey), let previous = try? P256.Signing.PublicKey(derRepresentation: previousDER),
              let nextDER = Data(base64Encoded: nextKey), let next = try? P256.Signing.PublicKey(derRepresentation: nextDER),
              let signatureDER = Data(base64Encoded: signature),
              let ecdsa = try? P256.Signing.ECDSASignature(derRepresentation: signatureDER),
              previous.isValidSignature(ecdsa, for: Self.message(previous: previous, next: next, from: from)),
              previous.derRepresentation != next.derRepresentation
        else { return nil }
        return (previous, next)
    }

    /// The rotations that lead from `pinned` to `presented`, each signed by the key before it and in
    /// force by `nowMs` (allowing the request clock skew), or nil when `statements` hold no such path.
    public static func path(from pinned: P256.Signing.PublicKey, to presented: P256.Signing.PublicKey, through statements: [IdentityRotation],
                            nowMs: Int64) -> [IdentityRotation]? {
        let verified = statements.compactMap { statement in statement.verified.map { (statement, $0.previous, $0.next) } }
        var key = pinned.derRepresentation
        var path: [IdentityRotation] = []
        // Each step uses a statement signed by the key reached so far; a path is never longer than the list.
        while key != presented.derRepresentation {
            guard path.count < verified.count,
                  let step = verified.first(where: { $0.1.derRepresentation == key && $0.0.from <= nowMs + RequestSignature.maxClockSkewMs })
            else { return nil }
            path.append(step.0)
            key = step.2.derRepresentation
        }
        return path
    }
}
