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
            throw TransactionTierError("\(signingKeyFile) does not hold a P-256 private key in PEM")
        }
        guard let kekBytes = Data(base64Encoded: String(decoding: kekText, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
              kekBytes.count == 32
        else {
            throw TransactionTierError("\(kekFile) does not hold a 32-byte key in base64")
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

    /// The signing key's public half in PEM, for clients that verify receipts.
    public var signingPublicKeyPEM: String { signingKey.publicKey.pemRepresentation }
}

/// Files that hold secrets: created 0600, never overwritten, refused when others can read them.
public enum SecretFile {
    /// Reads `path`, refusing a file that its group or others can access.
    public static func read(_ path: String, what: String) throws -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw TransactionTierError("cannot read \(what) from \(path): \(String(cString: strerror(errno))); run `coffer-admin init` first")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw TransactionTierError("\(path) (\(what)) can be read by others; run `chmod 600 \(path)`")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TransactionTierError("cannot read \(what) from \(path)")
        }
        return Array(data)
    }

    /// Creates `path` with mode 0600 holding `contents`; fails if it exists.
    public static func create(_ path: String, contents: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw TransactionTierError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let written = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == contents.count, fsync(fd) == 0 else {
            throw TransactionTierError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// A failure of the transaction tier to start, with a sentence for the operator.
public struct TransactionTierError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
