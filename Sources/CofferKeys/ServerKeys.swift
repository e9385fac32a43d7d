import CofferAudit
public import Crypto
import Foundation

/// The transaction tier's secrets: the receipt signing key and the key-encryption key (KEK).
///
/// Both live in files of mode 0600 that `coffer-admin init` creates; the signing key as PEM,
/// the KEK as 32 bytes of base64. Neither ever leaves the transaction tier.
public struct ServerKeys: Sendable {
    /// Signs receipts.
    public let signingKey: P256.Signing.PrivateKey
    /// Wraps decode keys at rest and keys the session tokens.
    public let kek: SymmetricKey

    public init(signingKey: P256.Signing.PrivateKey, kek: SymmetricKey) {
        self.signingKey = signingKey
        self.kek = kek
    }

    /// Reads both keys, refusing files that others can read.
    public static func load(signingKeyFile: String, kekFile: String) throws -> ServerKeys {
        let signingKey = try loadSigningKey(signingKeyFile)
        return ServerKeys(signingKey: signingKey, kek: try loadKEK(kekFile))
    }

    /// Reads a signing key file alone (an identity key, or the next one of a rotation), refusing
    /// one that others can read.
    public static func loadSigningKey(_ file: String) throws -> P256.Signing.PrivateKey {
        let pem = try SecretFile.read(file, what: "the signing key")
        do {
            return try P256.Signing.PrivateKey(pemRepresentation: String(decoding: pem, as: UTF8.self))
        } catch {
            throw KeyFileError("\(file) does not hold a P-256 private key in PEM")
        }
    }

    /// Creates fresh keys and writes them with mode 0600; refuses to overwrite existing files.
    public static func generate(signingKeyFile: String, kekFile: String) throws -> ServerKeys {
        let signingKey = try generateSigningKey(signingKeyFile)
        return ServerKeys(signingKey: signingKey, kek: try generateKEK(kekFile))
    }

    /// Creates a fresh signing key (an identity rotation's next key) with mode 0600; refuses to
    /// overwrite an existing file.
    public static func generateSigningKey(_ file: String) throws -> P256.Signing.PrivateKey {
        let signingKey = P256.Signing.PrivateKey()
        try SecretFile.create(file, contents: Array(signingKey.pemRepresentation.utf8) + [10])
        return signingKey
    }

    /// The session-token MAC key, derived from `kek`: what key files use, and what
    /// `coffer-admin init --import` puts into a token so that sessions issued before stay valid.
    public static func sessionKey(kek: SymmetricKey) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: kek, info: Array("coffer session v3".utf8), outputByteCount: 32)
    }

    /// A KEK's id: 8 bytes derived from it (HKDF), naming it in wrapped keys, logs and
    /// `coffer-admin keys` without revealing anything of it.
    public static func kekID(_ kek: SymmetricKey) -> [UInt8] {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: kek, info: Array("coffer kek id v1".utf8), outputByteCount: 8).withUnsafeBytes { Array($0) }
    }

    /// ``kekID(_:)`` as 16 hex digits.
    public static func kekIDText(_ kek: SymmetricKey) -> String {
        AuditLeaf.hex(kekID(kek))
    }

    /// Reads a KEK file alone (another KEK of a rotation), refusing one that others can read.
    public static func loadKEK(_ file: String) throws -> SymmetricKey {
        let text = try SecretFile.read(file, what: "the key-encryption key")
        guard let bytes = Data(base64Encoded: String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
            throw KeyFileError("\(file) does not hold a 32-byte key in base64")
        }
        return SymmetricKey(data: bytes)
    }

    /// Creates a new KEK file, mode 0600, refusing to overwrite one; returns the KEK.
    public static func generateKEK(_ file: String) throws -> SymmetricKey {
        let kek = SymmetricKey(size: .bits256)
        try SecretFile.create(file, contents: Array(kek.withUnsafeBytes { Data($0).base64EncodedString() }.utf8) + [10])
        return kek
    }

    /// The signing key's public half in PEM, for clients that verify receipts.
    public var signingPublicKeyPEM: String { signingKey.publicKey.pemRepresentation }
}
