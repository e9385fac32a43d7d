public import Crypto
public import Foundation

/// How a client proves it talks to the key service it knows: the service signs a fresh random
/// challenge with its identity key, and the client checks the key against the one it pinned.
public enum ServerIdentity {
    /// Bytes of a challenge.
    public static let challengeSize = 32

    /// The signed message for `challenge`: a domain string, then the challenge.
    public static func challengeMessage(_ challenge: [UInt8]) -> [UInt8] {
        Array("coffer server challenge v1\n".utf8) + challenge
    }

    /// The key's fingerprint: `sha256:` and the hex SHA-256 of its DER SubjectPublicKeyInfo.
    public static func fingerprint(of key: P256.Signing.PublicKey) -> String {
        "sha256:" + Hex.encode(SHA256.hash(data: key.derRepresentation))
    }

    /// Checks an identity answer against `challenge`; returns the server key when the signature holds.
    public static func verify(_ answer: IdentityResponse, challenge: [UInt8]) -> P256.Signing.PublicKey? {
        guard let der = Data(base64Encoded: answer.serverKey), let key = try? P256.Signing.PublicKey(derRepresentation: der),
              let sigDER = Data(base64Encoded: answer.signature), let signature = try? P256.Signing.ECDSASignature(derRepresentation: sigDER),
              key.isValidSignature(signature, for: challengeMessage(challenge))
        else { return nil }
        return key
    }
}

/// Device signatures on requests: every authenticated request is signed by the client
/// installation's key over its method, path, time, nonce and body hash.
public enum RequestSignature {
    /// Header with the request time, Unix milliseconds.
    public static let timeHeader = "Coffer-Time"
    /// Header with 16 random bytes in hex, never reused.
    public static let nonceHeader = "Coffer-Nonce"
    /// Header with the base64 DER ECDSA signature.
    public static let signatureHeader = "Coffer-Signature"
    /// How far a request's time may be from the server's clock.
    public static let maxClockSkewMs: Int64 = 5 * 60 * 1000

    /// The signed bytes.
    public static func message(method: String, path: String, timeMs: Int64, nonce: String, body: [UInt8]) -> [UInt8] {
        Array("coffer request v1\n\(method)\n\(path)\n\(timeMs)\n\(nonce)\n\(Hex.encode(SHA256.hash(data: body)))".utf8)
    }

    /// Signs a request; returns the three header values.
    public static func sign(method: String, path: String, body: [UInt8], key: P256.Signing.PrivateKey, now: Date = Date()) throws -> (time: String, nonce: String, signature: String) {
        let timeMs = Int64(now.timeIntervalSince1970 * 1000)
        let nonce = Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255) })
        let signature = try key.signature(for: message(method: method, path: path, timeMs: timeMs, nonce: nonce, body: body))
        return (String(timeMs), nonce, signature.derRepresentation.base64EncodedString())
    }

    /// Whether a signature holds for `key`.
    public static func isValid(signature: String, key: P256.Signing.PublicKey, method: String, path: String, timeMs: Int64, nonce: String, body: [UInt8]) -> Bool {
        guard let der = Data(base64Encoded: signature), let sig = try? P256.Signing.ECDSASignature(derRepresentation: der) else { return false }
        return key.isValidSignature(sig, for: message(method: method, path: path, timeMs: timeMs, nonce: nonce, body: body))
    }
}
