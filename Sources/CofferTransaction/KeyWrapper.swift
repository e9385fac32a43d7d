public import Crypto
import Foundation

/// Wraps decode keys under the KEK with AES-256-GCM, bound to their record and owner.
///
/// Wrapped form: 12-byte nonce ‖ ciphertext ‖ 16-byte tag; associated data:
/// `"coffer kek v1"` ‖ record id ‖ owner. A wrapped key moved to another record does not open.
public struct KeyWrapper: Sendable {
    private let kek: SymmetricKey

    public init(kek: SymmetricKey) { self.kek = kek }

    /// Wraps the raw private key of a record.
    public func wrap(_ decodeKey: P256.KeyAgreement.PrivateKey, recordID: [UInt8], owner: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(decodeKey.rawRepresentation, using: kek, authenticating: Self.aad(recordID, owner))
        guard let combined = box.combined else { throw TransactionTierError("AES-GCM produced no combined form") }
        return Array(combined)
    }

    /// Unwraps a decode key; fails if it was altered or belongs to another record or owner.
    public func unwrap(_ wrapped: [UInt8], recordID: [UInt8], owner: String) throws -> P256.KeyAgreement.PrivateKey {
        let box = try AES.GCM.SealedBox(combined: wrapped)
        let raw = try AES.GCM.open(box, using: kek, authenticating: Self.aad(recordID, owner))
        return try P256.KeyAgreement.PrivateKey(rawRepresentation: raw)
    }

    private static func aad(_ recordID: [UInt8], _ owner: String) -> Data {
        Data(Array("coffer kek v1".utf8) + recordID + Array(owner.utf8))
    }
}
