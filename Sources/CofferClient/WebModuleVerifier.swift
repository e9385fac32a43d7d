public import CofferAPI
import CofferAudit
public import Crypto
import Foundation

/// Checks the browser module a key service serves (`coffer web verify`): its manifest is signed by
/// the pinned identity key, every file the manifest lists is served with exactly those bytes (and
/// `/` is its `index.html`), and the manifest's SHA-256 is in a `web_module` entry of the audit log
/// that the newest signed checkpoint includes.
public struct WebModuleVerifier: Sendable {
    let service: KeyServiceClient
    let session: SessionCredentials
    let journal: AuditJournal

    public init(service: KeyServiceClient, session: SessionCredentials, journal: AuditJournal) {
        self.service = service
        self.session = session
        self.journal = journal
    }

    /// What was verified.
    public struct Report: Codable, Sendable {
        /// Lowercase hex SHA-256 of the manifest.
        public var manifestSHA256: String
        public var files: [WebManifest.Entry]
        /// The index of the audit entry that records the manifest.
        public var auditIndex: Int64
        /// The size of the checkpoint that entry was proved against.
        public var treeSize: Int64
    }

    public func verify(identityKey: P256.Signing.PublicKey) async throws -> Report {
        let answer = try await service.webManifest()
        guard let manifest = Data(base64Encoded: answer.manifest).map(Array.init), let signature = Data(base64Encoded: answer.signature),
              let ecdsa = try? P256.Signing.ECDSASignature(derRepresentation: signature),
              identityKey.isValidSignature(ecdsa, for: WebManifest.statement(manifest))
        else { throw ClientError(.dataError, "THE SERVED MODULE'S MANIFEST IS NOT SIGNED BY THE KEY SERVICE'S IDENTITY KEY: do not use the browser module of this server") }
        let hash = Hex.encode(SHA256.hash(data: manifest))
        guard hash == answer.sha256, let document = WebManifest.decode(manifest), !document.files.isEmpty else {
            throw ClientError(.dataError, "the key service's module manifest is malformed")
        }
        guard let page = document.files.first(where: { $0.path == "index.html" }) else {
            throw ClientError(.dataError, "the key service's module manifest lists no index.html")
        }
        for entry in document.files { try await check(path: "/" + entry.path, against: entry) }
        try await check(path: "/", against: page)
        guard let index = answer.auditIndex else {
            throw ClientError(.conflict, "the key service has not yet recorded this module in its audit log; verify again shortly")
        }
        let treeSize = try await proveRecorded(index: index, manifestSHA256: hash, files: document.files.count, identityKey: identityKey)
        return Report(manifestSHA256: hash, files: document.files, auditIndex: index, treeSize: treeSize)
    }

    /// Proves that entry `index` is in the newest signed checkpoint and records this manifest;
    /// returns the checkpoint's size.
    private func proveRecorded(index: Int64, manifestSHA256: String, files: Int, identityKey: P256.Signing.PublicKey) async throws -> Int64 {
        let check = CheckpointCheck(service: service, session: session, journal: journal)
        var newest = try await check.newest(identityKey: identityKey)
        let size = newest.checkpoint.size
        guard index < size else {
            throw ClientError(.conflict, "the module's audit entry #\(index) is not yet in a signed checkpoint (\(size) entries); verify again shortly")
        }
        let proofs = try await check.proofs(indexes: [index], &newest)
        let stated = try check.includedLeaf(index, name: "the module's audit entry #\(index)", in: proofs, newest)
        guard stated.index == index, stated.kind == AuditKind.webModule.rawValue, stated.detail == WebManifest.auditDetail(sha256: manifestSHA256, files: files) else {
            throw ClientError(.dataError, "THE AUDIT LOG DOES NOT RECORD THE SERVED MODULE: entry #\(index) is \(stated.kind), not this manifest's web_module entry")
        }
        try check.keep(newest)
        return size
    }

    private func check(path: String, against entry: WebManifest.Entry) async throws {
        let (status, body) = try await service.fetch(path)
        guard status == 200 else { throw ClientError(.dataError, "the key service does not serve \(path) of its module (HTTP \(status))") }
        let served = Hex.encode(SHA256.hash(data: body))
        guard body.count == entry.size, served == entry.sha256 else {
            throw ClientError(.dataError, "THE SERVED \(path) IS NOT THE FILE THE SIGNED MANIFEST NAMES (\(body.count) bytes, sha256:\(served); the manifest says \(entry.size) bytes, sha256:\(entry.sha256)): the module was changed")
        }
    }
}
