import Crypto
import Foundation

/// The key service's statement that a file with this hash was saved at this time by this owner
/// from this client installation.
///
/// Its proof is an RFC 3161 TimeStampToken over SHA-256 of ``canonicalBytes``, signed by the key
/// service's time-stamping certificate, which the deployment's CA issues: anyone can check it with
/// `openssl ts -verify`. The container carries the receipt as JSON; retrieving presents the token
/// back to the key service, which compares it with the one it stored.
public struct Receipt: Codable, Sendable, Hashable {
    /// Receipt format version.
    public var version: Int
    public var recordID: String
    public var owner: String
    /// The client installation that made the save.
    public var clientID: String
    public var fileName: String
    /// Lowercase hex SHA-256 of the plaintext.
    public var sha256: String
    public var size: Int64
    /// Unix time in milliseconds, as the key service's clock read it.
    public var time: Int64
    /// Lowercase hex SHA-256 of the encode key.
    public var encodeKeyID: String
    /// Base64 DER RFC 3161 TimeStampToken over SHA-256 of ``canonicalBytes``.
    public var token: String

    public init(
        recordID: String, owner: String, clientID: String, fileName: String, sha256: String, size: Int64,
        time: Int64, encodeKeyID: String, token: String = ""
    ) {
        self.version = 2
        self.recordID = recordID
        self.owner = owner
        self.clientID = clientID
        self.fileName = fileName
        self.sha256 = sha256
        self.size = size
        self.time = time
        self.encodeKeyID = encodeKeyID
        self.token = token
    }

    /// The time-stamped bytes: a domain line, then each field as a 4-byte big-endian length and its
    /// UTF-8 text, in a fixed order (numbers in decimal).
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = Array("coffer receipt v2\n".utf8)
        for field in [recordID, owner, clientID, fileName, sha256, String(size), String(time), encodeKeyID] {
            let bytes = Array(field.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { out.append(contentsOf: $0) }
            out += bytes
        }
        return out
    }

    /// SHA-256 of ``canonicalBytes``: the message imprint of the time-stamp token.
    public var imprint: [UInt8] { Array(SHA256.hash(data: canonicalBytes)) }

    /// The DER token, or `nil` when it is not base64.
    public var tokenBytes: [UInt8]? { Data(base64Encoded: token).map(Array.init) }

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
