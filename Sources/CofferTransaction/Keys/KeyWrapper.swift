public import Crypto
import Foundation

/// Wraps decode keys under the KEK with AES-256-GCM, bound to their record, owner and generation.
///
/// Wrapped form: 12-byte nonce ‖ ciphertext ‖ 16-byte tag; associated data:
/// `"coffer kek v1"` ‖ record id ‖ encode key id ‖ owner. A wrapped key moved to another record,
/// owner or key generation does not open.
public struct KeyWrapper: Sendable {
    private let kek: SymmetricKey

    /// The wrapped form's length: a nonce, a 32-byte P-256 scalar and a tag.
    public static let wrappedLength = 12 + 32 + 16

    public init(kek: SymmetricKey) { self.kek = kek }

    /// Wraps the raw private key of a record.
    public func wrap(_ decodeKey: P256.KeyAgreement.PrivateKey, recordID: [UInt8], owner: String) throws -> [UInt8] {
        let aad = Self.associatedData(version: 1, recordID, Self.keyID(decodeKey.publicKey), owner)
        let box = try AES.GCM.seal(decodeKey.rawRepresentation, using: kek, authenticating: aad)
        guard let combined = box.combined else { throw TransactionTierError("AES-GCM produced no combined form") }
        return Array(combined)
    }

    /// Unwraps a decode key; fails if it was altered or belongs to another record, owner or generation.
    public func unwrap(_ wrapped: [UInt8], recordID: [UInt8], owner: String, encodeKeyID: [UInt8]) throws -> P256.KeyAgreement.PrivateKey {
        let box = try AES.GCM.SealedBox(combined: wrapped)
        let raw = try AES.GCM.open(box, using: kek, authenticating: Self.associatedData(version: 1, recordID, encodeKeyID, owner))
        let key = try P256.KeyAgreement.PrivateKey(rawRepresentation: raw)
        guard Self.keyID(key.publicKey) == encodeKeyID else { throw TransactionTierError("the unwrapped key is not the recorded generation") }
        return key
    }

    /// SHA-256 of the encode key's X9.63 form, as the container and receipt name it.
    public static func keyID(_ key: P256.KeyAgreement.PublicKey) -> [UInt8] {
        Array(SHA256.hash(data: key.x963Representation))
    }

    /// What binds a wrapped decode key to its record, generation and owner, in wrapped form
    /// `version` (1: key files; 2: a device, ``DeviceKeyBackend``).
    static func associatedData(version: Int, _ recordID: [UInt8], _ keyID: [UInt8], _ owner: String) -> [UInt8] {
        Array("coffer kek v\(version)".utf8) + recordID + keyID + Array(owner.utf8)
    }
}
