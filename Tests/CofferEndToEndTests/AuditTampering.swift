import CofferAudit
import CofferClient
import CofferStorage
import CofferTesting
import Foundation
import Testing

/// Plays the malicious database administrator: rewrites the audit rows behind the database tier.
enum AuditTampering {
    static func connect(_ store: String) throws -> any SQLConnection {
        try StoreLocation(store).connect()
    }

    /// Switches the append-only triggers off for this connection, as a superuser or file owner can.
    static func disableTriggers(_ db: any SQLConnection) throws {
        if db.dialect == .postgres {
            try db.execute("SET session_replication_role = replica")
        } else {
            for table in ["audit_log", "audit_tree", "audit_checkpoints"] {
                try db.execute("DROP TRIGGER IF EXISTS \(table)_no_update; DROP TRIGGER IF EXISTS \(table)_no_delete")
            }
        }
    }

    static func rewrite(store: String, tamper: AuditEndToEndTests.Tamper, dropCheckpoints: Bool) throws {
        let db = try connect(store)
        try disableTriggers(db)
        let rows = try db.query("SELECT leaf FROM audit_log ORDER BY idx", [])
        var leaves = try rows.map { try AuditLeaf(bytes: try $0.blob(0)) }
        let save = try #require(leaves.firstIndex { $0.kind == "save" })
        let retrieve = try #require(leaves.firstIndex { $0.kind == "retrieve" })
        switch tamper {
        case .edit:
            leaves[save].fileName = "other.txt"
        case .delete:
            leaves.remove(at: retrieve)
        case .reorder:
            leaves.swapAt(save, retrieve)
        case .truncateAndReappend:
            let tail = leaves[(save + 1)...].map { leaf -> AuditLeaf in
                var forged = leaf
                forged.kind = "login"
                forged.recordID = nil
                forged.fileName = nil
                return forged
            }
            leaves = Array(leaves[...save]) + tail
        }
        try db.transaction {
            try db.execute("DELETE FROM audit_log; DELETE FROM audit_tree")
            var nodes: [MerkleNodeID: [UInt8]] = [:]
            for (index, var leaf) in leaves.enumerated() {
                leaf.index = Int64(index)
                let bytes = try leaf.encoded()
                try db.query(
                    "INSERT INTO audit_log (idx, at_ms, kind, user_name, record_id, file_name, detail, source, client_id, leaf) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    [.int(Int64(index)), .int(leaf.timeMs), .text(leaf.kind), .text(leaf.user), leaf.recordID.map { .blob(hexBytes($0)) } ?? .null,
                     leaf.fileName.map(SQLValue.text) ?? .null, .text(leaf.detail), .text(leaf.source), .text(leaf.clientID), .blob(bytes)]
                )
                let known = nodes
                for (node, hash) in try MerkleTree(reader: { known[$0]! }).nodesForAppend(index: Int64(index), leafHash: MerkleHash.leaf(bytes)) {
                    nodes[node] = hash
                    try db.query("INSERT INTO audit_tree (level, idx, hash) VALUES ($1, $2, $3)", [.int(Int64(node.level)), .int(node.index), .blob(hash)])
                }
            }
            if dropCheckpoints { try db.execute("DELETE FROM audit_checkpoints") }
        }
    }

    static func dropCheckpoints(store: String) throws {
        let db = try connect(store)
        try disableTriggers(db)
        try db.execute("DELETE FROM audit_checkpoints")
    }

    static func hexBytes(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            out.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return out
    }
}

/// The independent checker in `Tests/Interop/auditcheck`, built with Debian's Go and golang.org/x/mod.
enum GoAuditChecker {
    static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path + "/Interop/auditcheck/main.go"

    static func run(export: String, verifierKey: String) async throws -> (status: Int32, output: String) {
        let work = try TestEnvironment.makeTemporaryDirectory("auditcheck")
        let environment = ["PATH": "/usr/bin:/bin", "GOPATH": "/usr/share/gocode", "GO111MODULE": "off", "GOCACHE": work + "/cache", "HOME": work]
        let build = try TestProcess("/usr/bin/go", ["build", "-o", work + "/auditcheck", source], environment: environment, logDirectory: work)
        guard try await build.wait(timeout: .seconds(180)) == 0 else {
            throw TestError("cannot build the Go audit checker (install golang-go and golang-golang-x-mod-dev): \(build.standardError)")
        }
        let check = try TestProcess(work + "/auditcheck", [export, verifierKey], environment: environment, logDirectory: work)
        let status = try await check.wait(timeout: .seconds(120))
        return (status, check.standardOutput + check.standardError)
    }
}
