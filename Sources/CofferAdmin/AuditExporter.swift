import CofferAudit
import CofferTierLink
import CofferWire
import Foundation
public import Logging

/// Reads the whole audit log from the database tier and writes an export (docs/AUDIT.md).
///
/// Connects over ZeroMQ with the operator's own CURVE key (``AdminLink``). The export itself is
/// audited as an `admin` entry first.
public struct AuditExporter: Sendable {
    let link: DatabaseLink
    let verifierKey: String

    /// Connects with the keys under `keysDirectory` (the folder `coffer-admin init` made).
    public init(keysDirectory: String, endpoint: String, timeout: Duration, logger: Logger) throws {
        guard let vkey = try? String(contentsOfFile: "\(keysDirectory)/transaction/checkpoint.vkey", encoding: .utf8) else {
            throw AuditExportError("cannot read \(keysDirectory)/transaction/checkpoint.vkey; run `coffer-admin init \(keysDirectory)`")
        }
        self.verifierKey = vkey.trimmingCharacters(in: .whitespacesAndNewlines)
        self.link = try AdminLink.connect(keysDirectory: keysDirectory, endpoint: endpoint, timeout: timeout, logger: logger)
    }

    /// What an export wrote.
    public struct Summary: Sendable {
        public var entries: Int64
        public var checkpoints: Int
    }

    /// Writes the export into `directory`, which must be new or empty.
    public func export(to directory: String, operatorName: String) async throws -> Summary {
        defer { link.shutdown() }
        var action = Coffer_Wire_V1_AppendAudit()
        action.kind = AuditKind.admin.rawValue
        action.user = "admin"
        action.detail = "audit export"
        action.source = operatorName
        action.timeUnixMs = Int64(Date().timeIntervalSince1970 * 1000)
        // The link retries while the CURVE handshake of a fresh connection completes.
        _ = try await link.call(.appendAudit(action))

        var leaves: [[UInt8]] = []
        var next: Int64 = 0
        while true {
            var page = Coffer_Wire_V1_ListAuditEntries()
            page.fromIndex = next
            page.limit = 1_000
            guard case .auditEntries(let entries) = try await link.call(.listAuditEntries(page)) else { throw AuditExportError("unexpected answer") }
            guard let last = entries.events.last else { break }
            // Rows are written in index order; a missing row shows in the export as a leaf on the wrong line.
            leaves += entries.events.map { Array($0.leaf) }
            next = last.index + 1
        }
        var notes: [String] = []
        var after: Int64 = 0
        while true {
            var page = Coffer_Wire_V1_ListCheckpoints()
            page.afterSize = after
            page.limit = 1_000
            guard case .checkpoints(let list) = try await link.call(.listCheckpoints(page)), let last = list.checkpoints.last else { break }
            notes += list.checkpoints.map(\.note)
            after = last.treeSize
        }
        guard case .auditProofs(let head) = try await link.call(.getAuditProofs(.init())) else { throw AuditExportError("unexpected answer") }
        try AuditExportLayout.write(to: directory, verifierKey: verifierKey, leaves: leaves, checkpoints: notes, treeHead: (head.treeSize, Array(head.rootHash)))
        return Summary(entries: Int64(leaves.count), checkpoints: notes.count)
    }
}
