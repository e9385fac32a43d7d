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
        let pem = try SecretFile.read(signingKeyFile, what: "the signing key")
        let kekText = try SecretFile.read(kekFile, what: "the key-encryption key")
        let signingKey: P256.Signing.PrivateKey
        do {
            signingKey = try P256.Signing.PrivateKey(pemRepresentation: String(decoding: pem, as: UTF8.self))
        } catch {
            throw KeyFileError("\(signingKeyFile) does not hold a P-256 private key in PEM")
        }
        guard let kekBytes = Data(base64Encoded: String(decoding: kekText, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
              kekBytes.count == 32
        else {
            throw KeyFileError("\(kekFile) does not hold a 32-byte key in base64")
        }
        return ServerKeys(signingKey: signingKey, kek: SymmetricKey(data: kekBytes))
    }

    /// Creates fresh keys and writes them with mode 0600; refuses to overwrite existing files.
    public static func generate(signingKeyFile: String, kekFile: String) throws -> ServerKeys {
        let keys = ServerKeys(signingKey: P256.Signing.PrivateKey(), kek: SymmetricKey(size: .bits256))
        try SecretFile.create(signingKeyFile, contents: Array(keys.signingKey.pemRepresentation.utf8) + [10])
        let kekBase64 = keys.kek.withUnsafeBytes { Data($0).base64EncodedString() }
        try SecretFile.create(kekFile, contents: Array(kekBase64.utf8) + [10])
        return keys
    }

    /// The session-token MAC key, derived from `kek`: what key files use, and what
    /// `coffer-admin init --import` puts into a token so that sessions issued before stay valid.
    public static func sessionKey(kek: SymmetricKey) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: kek, info: Array("coffer session v3".utf8), outputByteCount: 32)
    }

    /// The signing key's public half in PEM, for clients that verify receipts.
    public var signingPublicKeyPEM: String { signingKey.publicKey.pemRepresentation }
}
