public import Crypto
public import Foundation

/// The server's signed statement that a file with this hash was saved at this time by this owner.
///
/// The signature is ECDSA P-256/SHA-256 over ``canonicalBytes``. The container carries the receipt
/// as JSON; retrieving presents the signature back to the server, which compares it with the stored one.
public struct Receipt: Codable, Sendable, Hashable {
    /// Receipt format version.
    public var version: Int
    public var recordID: String
    public var owner: String
    public var fileName: String
    /// Lowercase hex SHA-256 of the plaintext.
    public var sha256: String
    public var size: Int64
    /// Unix time in milliseconds.
    public var time: Int64
    /// Lowercase hex SHA-256 of the encode key.
    public var encodeKeyID: String
    /// Base64 DER ECDSA signature over ``canonicalBytes``.
    public var signature: String

    public init(
        recordID: String, owner: String, fileName: String, sha256: String, size: Int64,
        time: Int64, encodeKeyID: String, signature: String = ""
    ) {
        self.version = 1
        self.recordID = recordID
        self.owner = owner
        self.fileName = fileName
        self.sha256 = sha256
        self.size = size
        self.time = time
        self.encodeKeyID = encodeKeyID
        self.signature = signature
    }

    /// The signed bytes: a domain string then each field, length-prefixed, in a fixed order.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = Array("coffer receipt v1\n".utf8)
        for field in [recordID, owner, fileName, sha256, String(size), String(time), encodeKeyID] {
            let bytes = Array(field.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { out.append(contentsOf: $0) }
            out += bytes
        }
        return out
    }

    /// Returns a copy signed with `key`.
    public func signed(with key: P256.Signing.PrivateKey) throws -> Receipt {
        var copy = self
        copy.signature = try key.signature(for: canonicalBytes).derRepresentation.base64EncodedString()
        return copy
    }

    /// Whether the signature is valid under `key`.
    public func isValid(signedBy key: P256.Signing.PublicKey) -> Bool {
        guard let der = Data(base64Encoded: signature),
              let sig = try? P256.Signing.ECDSASignature(derRepresentation: der)
        else { return false }
        return key.isValidSignature(sig, for: canonicalBytes)
    }

    /// The JSON form carried in containers (sorted keys, so it is stable).
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(self))
    }

    /// Decodes the JSON form carried in containers.
    public static func decode(_ bytes: [UInt8]) throws -> Receipt {
        try JSONDecoder().decode(Receipt.self, from: Data(bytes))
    }
}
