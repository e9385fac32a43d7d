import CofferAPI
import CofferAudit
public import CofferDevice
import CofferKeys
import Crypto
import Foundation

/// Puts a deployment's transaction-tier keys into a PKCS#11 token (``CofferTokenKeys``): each key
/// the token lacks is made inside it, or, for an existing deployment, imported from its key file
/// (the KEK, so that every decode key wrapped under it still opens, with the session-token key
/// derived from it; the signing key; the checkpoint key). The wrapping key is always new: nothing
/// was wrapped with it before. Existing token keys are kept, never replaced.
public struct TokenKeySetup {
    /// One key of the token: its label, kind, `CKA_ID` in hex, and whether it was made, imported or kept.
    public struct Line: Sendable, CustomStringConvertible {
        public let label: String
        public let kind: String
        public let id: String
        public let action: String
        public var description: String { "\(action) \(label) (\(kind), id \(id))" }
    }

    let token: Token
    /// The folder of the transaction tier's key files (`KEYS/transaction`).
    let folder: String

    public init(token: Token, transactionFolder: String) {
        self.token = token
        self.folder = transactionFolder
    }

    /// Makes (or, with `importFiles`, imports from the key files) every key the token lacks, then
    /// writes the signing key's public half (`signing.public.pem`) and the checkpoint verifier key
    /// (`checkpoint.vkey`) beside the key files when they are not there yet.
    public func run(importFiles: Bool, auditOrigin: String) throws -> [Line] {
        if let problem = try CofferTokenKeys.mechanismProblem(in: token) { throw KeyFileError(problem) }
        let files = importFiles ? try Self.readFiles(folder) : nil
        var lines: [Line] = []
        func key(_ label: String, _ kind: Token.ObjectClass, _ what: String, make: () throws -> [UInt8], imported: (() throws -> [UInt8])?) throws {
            if try token.contains(label, kind) {
                lines.append(Line(label: label, kind: what, id: Hex.encode(try token.identifier(of: label, kind)), action: "kept"))
            } else if let imported {
                lines.append(Line(label: label, kind: what, id: Hex.encode(try imported()), action: "imported"))
            } else {
                lines.append(Line(label: label, kind: what, id: Hex.encode(try make()), action: "made"))
            }
        }
        try key(CofferTokenKeys.kek, .secretKey, "AES-256, encrypt/decrypt", make: { try token.generateSecretKey(label: CofferTokenKeys.kek, use: .encryption) },
                imported: files.map { f in { try token.importSecretKey(label: CofferTokenKeys.kek, use: .encryption, value: f.kek) } })
        try key(CofferTokenKeys.wrapping, .secretKey, "AES-256, wrap/unwrap", make: { try token.generateSecretKey(label: CofferTokenKeys.wrapping, use: .wrapping) },
                imported: nil)
        try key(CofferTokenKeys.session, .secretKey, "HMAC-SHA256", make: { try token.generateSecretKey(label: CofferTokenKeys.session, use: .mac) },
                imported: files.map { f in { try token.importSecretKey(label: CofferTokenKeys.session, use: .mac, value: f.session) } })
        try key(CofferTokenKeys.signing, .privateKey, "ECDSA P-256", make: { try token.generateP256SigningKey(label: CofferTokenKeys.signing) },
                imported: files.map { f in {
                    try token.importP256SigningKey(label: CofferTokenKeys.signing, scalar: Array(f.signing.rawRepresentation),
                                                   publicPoint: Array(f.signing.publicKey.x963Representation))
                } })
        try key(CofferTokenKeys.tls, .privateKey, "ECDSA P-256, TLS", make: { try token.generateP256SigningKey(label: CofferTokenKeys.tls) },
                imported: nil)
        try key(CofferTokenKeys.checkpoint, .privateKey, "Ed25519", make: { try token.generateEd25519SigningKey(label: CofferTokenKeys.checkpoint) },
                imported: files.map { f in {
                    try token.importEd25519SigningKey(label: CofferTokenKeys.checkpoint, seed: Array(f.checkpoint.rawRepresentation),
                                                      publicKey: Array(f.checkpoint.publicKey.rawRepresentation))
                } })
        if let problem = try CofferTokenKeys.keyProblem(in: token) { throw KeyFileError(problem) }
        try writePublicFiles(auditOrigin: auditOrigin)
        return lines
    }

    /// The public halves an operator hands out: the signing key (for the TSA certificate and for
    /// clients that pin it), the TLS key (for the server certificate) and the checkpoint verifier
    /// key. Existing files must match the token.
    private func writePublicFiles(auditOrigin: String) throws {
        let signing = try P256.Signing.PublicKey(x963Representation: try token.publicPoint(key: CofferTokenKeys.signing))
        let tls = try P256.Signing.PublicKey(x963Representation: try token.publicPoint(key: CofferTokenKeys.tls))
        let checkpoint = try Curve25519.Signing.PublicKey(rawRepresentation: try token.ed25519PublicKey(key: CofferTokenKeys.checkpoint))
        let verifier = try NoteVerifier(keyName: auditOrigin, publicKey: checkpoint).serialized
        for (name, text) in [("signing.public.pem", signing.pemRepresentation + "\n"), ("tls.public.pem", tls.pemRepresentation + "\n"),
                             ("checkpoint.vkey", verifier + "\n")] {
            let path = folder + "/" + name
            if let existing = FileManager.default.contents(atPath: path) {
                guard String(decoding: existing, as: UTF8.self) == text else {
                    throw KeyFileError("\(path) is not the token's key; move it away (the token's keys were made or imported anew)")
                }
            } else if !FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) {
                throw KeyFileError("cannot write \(path)")
            }
        }
    }

    private struct FileKeys {
        let kek: [UInt8]
        let session: [UInt8]
        let signing: P256.Signing.PrivateKey
        let checkpoint: Curve25519.Signing.PrivateKey
    }

    /// The key files of an existing deployment, for import.
    private static func readFiles(_ folder: String) throws -> FileKeys {
        let keys = try ServerKeys.load(signingKeyFile: folder + "/signing.key.pem", kekFile: folder + "/kek.b64")
        let checkpoint = try CheckpointKey.loadPrivateKey(folder + "/checkpoint.key")
        let session = ServerKeys.sessionKey(kek: keys.kek)
        return FileKeys(kek: keys.kek.withUnsafeBytes { Array($0) }, session: session.withUnsafeBytes { Array($0) },
                        signing: keys.signingKey, checkpoint: checkpoint)
    }
}
