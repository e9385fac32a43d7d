public import CofferAudit
public import Crypto
import Foundation

/// The Ed25519 key that signs the audit log's checkpoints, held only by the transaction tier.
///
/// The file holds the 32-byte private key in base64 (mode 0600); `coffer-admin init` makes it and
/// writes its verifier key (`checkpoint.vkey`) beside it for auditors and clients.
public enum CheckpointKey {
    /// Reads the key and makes a signer named `origin`.
    public static func load(_ path: String, origin: String) throws -> NoteSigner {
        let key = try loadPrivateKey(path)
        do {
            return try NoteSigner(keyName: origin, key: key)
        } catch {
            throw KeyFileError("the audit origin \"\(origin)\" cannot name a key: \(error)")
        }
    }

    /// Reads the private key itself (for `coffer-admin init --import`, which puts it into a token).
    public static func loadPrivateKey(_ path: String) throws -> Curve25519.Signing.PrivateKey {
        let text = String(decoding: try SecretFile.read(path, what: "the checkpoint signing key"), as: UTF8.self)
        guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else { throw KeyFileError("\(path) does not hold a 32-byte Ed25519 key in base64") }
        return key
    }

    /// Creates a fresh key (mode 0600) and writes the verifier key for `origin` to `vkeyPath`.
    public static func generate(_ path: String, vkeyPath: String, origin: String) throws {
        let key = Curve25519.Signing.PrivateKey()
        let signer: NoteSigner
        do {
            signer = try NoteSigner(keyName: origin, key: key)
        } catch {
            throw KeyFileError("the audit origin \"\(origin)\" cannot name a key: \(error)")
        }
        try SecretFile.create(path, contents: Array(key.rawRepresentation.base64EncodedString().utf8) + [10])
        guard FileManager.default.createFile(atPath: vkeyPath, contents: Data((signer.verifier.serialized + "\n").utf8)) else {
            throw KeyFileError("cannot write \(vkeyPath)")
        }
    }
}
