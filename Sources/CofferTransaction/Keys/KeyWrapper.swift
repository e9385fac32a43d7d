public import Crypto
import CofferKeys
import Foundation

/// Wraps decode keys under one KEK with AES-256-GCM, bound to their record, owner and generation.
///
/// Tagged form (written): `0x03` ‖ the KEK's 8-byte id ‖ 12-byte nonce ‖ ciphertext ‖ 16-byte tag;
/// associated data `"coffer kek v3"` ‖ KEK id ‖ record id ‖ encode key id ‖ owner. The untagged
/// form of earlier releases (nonce ‖ ciphertext ‖ tag, associated data `"coffer kek v1"` ‖ record
/// id ‖ encode key id ‖ owner) is still read. A wrapped key moved to another record, owner or key
/// generation does not open; the tag says which KEK of a rotation opens it.
public struct KeyWrapper: Sendable {
    private let kek: SymmetricKey
    /// The KEK's id (``ServerKeys/kekID(_:)``).
    public let kekID: [UInt8]

    /// The untagged form's length: a nonce, a 32-byte P-256 scalar and a tag.
    public static let wrappedLength = 12 + 32 + 16
    /// The tagged form's length.
    public static let taggedLength = 1 + 8 + wrappedLength
    static let taggedMarker: UInt8 = 3

    public init(kek: SymmetricKey) {
        self.kek = kek
        self.kekID = ServerKeys.kekID(kek)
    }

    /// The first bytes of every key this wrapper wraps.
    public var tag: [UInt8] { [Self.taggedMarker] + kekID }

    /// Whether `wrapped` is in the tagged form of some KEK.
    static func isTagged(_ wrapped: [UInt8]) -> Bool { wrapped.count == taggedLength && wrapped[0] == taggedMarker }

    /// Wraps the raw private key of a record, in the tagged form.
    public func wrap(_ decodeKey: P256.KeyAgreement.PrivateKey, recordID: [UInt8], owner: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(decodeKey.rawRepresentation, using: kek,
                                   authenticating: Self.associatedData(version: 3, kekID + recordID, Self.keyID(decodeKey.publicKey), owner))
        guard let combined = box.combined else { throw TransactionTierError("AES-GCM produced no combined form") }
        return tag + Array(combined)
    }

    /// Unwraps a decode key in either form; fails if it was altered, belongs to another record,
    /// owner or generation, or was wrapped under another KEK.
    public func unwrap(_ wrapped: [UInt8], recordID: [UInt8], owner: String, encodeKeyID: [UInt8]) throws -> P256.KeyAgreement.PrivateKey {
        let raw: Data
        if Self.isTagged(wrapped) {
            guard Array(wrapped[1..<9]) == kekID else { throw TransactionTierError("the key is wrapped under another KEK") }
            let box = try AES.GCM.SealedBox(combined: wrapped[9...])
            raw = try AES.GCM.open(box, using: kek, authenticating: Self.associatedData(version: 3, kekID + recordID, encodeKeyID, owner))
        } else {
            let box = try AES.GCM.SealedBox(combined: wrapped)
            raw = try AES.GCM.open(box, using: kek, authenticating: Self.associatedData(version: 1, recordID, encodeKeyID, owner))
        }
        let key = try P256.KeyAgreement.PrivateKey(rawRepresentation: raw)
        guard Self.keyID(key.publicKey) == encodeKeyID else { throw TransactionTierError("the unwrapped key is not the recorded generation") }
        return key
    }

    /// SHA-256 of the encode key's X9.63 form, as the container and receipt name it.
    public static func keyID(_ key: P256.KeyAgreement.PublicKey) -> [UInt8] {
        Array(SHA256.hash(data: key.x963Representation))
    }

    /// What binds a wrapped decode key to its record, generation and owner, in wrapped form
    /// `version` (1: untagged key files; 2: a device, ``DeviceKeyBackend``; 3: tagged key files,
    /// whose `recordID` is preceded by the KEK id).
    static func associatedData(version: Int, _ recordID: [UInt8], _ keyID: [UInt8], _ owner: String) -> [UInt8] {
        Array("coffer kek v\(version)".utf8) + recordID + keyID + Array(owner.utf8)
    }
}
