import CofferAudit
import CofferClient
import CofferStorage
import CofferTesting
import Foundation
import Testing

/// The tamper-evident audit history end to end: clients verify their entries, operators export the
/// log, and an independent checker (Go's sumdb/note and sumdb/tlog) verifies the export.
@Suite(.serialized) struct AuditEndToEndTests {
    typealias Store = EndToEndTests.Store

    struct Report: Decodable {
        struct Event: Decodable { let index: Int64; let kind: String }
        let events: [Event]
        let treeSize: Int64
        let previousTreeSize: Int64?
        let journalEntries: Int
    }

    /// alice saves and retrieves a file, then verifies its history once (so her client keeps a checkpoint).
    func prepare(_ deployment: LocalDeployment) async throws -> String {
        try await deployment.registerAndLogin("alice")
        try await deployment.registerAndLogin("bob")
        let file = deployment.directory + "/minutes.txt"
        try Data("board minutes".utf8).write(to: URL(fileURLWithPath: file))
        let saved = try await deployment.coffer(["save", file], user: "alice")
        #expect(saved.status == 0, "\(saved.stderr)")
        let retrieved = try await deployment.coffer(["retrieve", file + ".coffer", "-o", file + ".copy"], user: "alice")
        #expect(retrieved.status == 0, "\(retrieved.stderr)")
        let verified = try await deployment.coffer(["history", file + ".coffer", "--verify", "--json"], user: "alice")
        #expect(verified.status == 0, "\(verified.stderr)\n\(deployment.tierLogs)")
        return file + ".coffer"
    }

    @Test("history --verify proves a file's entries; an export verifies with coffer-admin and with Go's sumdb packages", arguments: EndToEndTests.stores)
    func verifiedHistoryAndExport(store: Store) async throws {
        let deployment = try await EndToEndTests.deploy(store)
        defer { deployment.terminate() }
        let container = try await prepare(deployment)

        let again = try await deployment.coffer(["history", container, "--verify", "--json"], user: "alice")
        #expect(again.status == 0, "\(again.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(again.stdout.utf8))
        #expect(Set(report.events.map(\.kind)).isSuperset(of: ["save", "retrieve", "reseal", "key_destroyed"]))
        #expect(report.previousTreeSize != nil, "the second run checks consistency with the first run's checkpoint")
        #expect(report.journalEntries == 2, "the save and the retrieve this client saw acknowledged")
        let text = try await deployment.coffer(["history", container, "--verify"], user: "alice")
        #expect(text.stdout.contains("verified: "), "\(text.stdout)")

        let export = deployment.directory + "/export"
        let exported = try await deployment.admin(["audit", "export", export])
        #expect(exported.status == 0, "\(exported.stderr)")
        let vkey = deployment.directory + "/keys/transaction/checkpoint.vkey"
        let verified = try await deployment.admin(["audit", "verify", export, "--key", vkey])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        let entries = try String(contentsOfFile: export + "/entries.jsonl", encoding: .utf8)
        #expect(entries.contains("\"detail\":\"audit export\""), "the export is itself audited")

        let independent = try await GoAuditChecker.run(export: export, verifierKey: vkey)
        #expect(independent.status == 0, "\(independent.output)")
        #expect(independent.output.hasPrefix("ok: "))

        let refused = try await deployment.admin(["audit", "export", export])
        #expect(refused.status == 69, "an export never writes into a folder that holds one")
        let missing = try await deployment.admin(["audit", "verify", deployment.directory + "/no-such-export", "--key", vkey])
        #expect(missing.status == 66, "\(missing.stderr)")

        // A client that pinned one checkpoint key refuses another, as it refuses a changed identity key.
        let pinned = try #require(try FileManager.default.contentsOfDirectory(atPath: deployment.directory + "/client-alice/audit").first { $0.hasSuffix(".vkey") })
        try Data("coffer/audit+00000000+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n".utf8)
            .write(to: URL(fileURLWithPath: deployment.directory + "/client-alice/audit/" + pinned))
        let changed = try await deployment.coffer(["history", container, "--verify"], user: "alice")
        #expect(changed.status == 77, "\(changed.stderr)")
        #expect(changed.stderr.contains("THE AUDIT CHECKPOINT KEY HAS CHANGED"))
    }

    enum Tamper: String, CaseIterable, Sendable { case edit, delete, reorder, truncateAndReappend }

    static var cases: [(Store, Tamper)] { EndToEndTests.stores.flatMap { store in Tamper.allCases.map { (store, $0) } } }

    @Test("a rewritten history is caught by audit verify, by the running transaction tier, and by a client that holds an older checkpoint", arguments: cases)
    func tampering(store: Store, tamper: Tamper) async throws {
        let deployment = try await EndToEndTests.deploy(store)
        defer { deployment.terminate() }
        let container = try await prepare(deployment)
        let clientCheckpoint = deployment.directory + "/client-alice/audit"
        let kept = try #require(try FileManager.default.contentsOfDirectory(atPath: clientCheckpoint).first { $0.hasSuffix(".checkpoint") })
        let vkey = deployment.directory + "/keys/transaction/checkpoint.vkey"

        // A database administrator rewrites the rows and rebuilds the tree so that it is self-consistent.
        try AuditTampering.rewrite(store: deployment.store, tamper: tamper, dropCheckpoints: false)
        let export = deployment.directory + "/export"
        #expect(try await deployment.admin(["audit", "export", export]).status == 0)
        let verified = try await deployment.admin(["audit", "verify", export, "--key", vkey])
        #expect(verified.status == 65, "\(tamper): \(verified.stdout)")
        #expect(verified.stdout.contains("THE AUDIT HISTORY DOES NOT VERIFY"))
        #expect(try await GoAuditChecker.run(export: export, verifierKey: vkey).status == 1, "the independent checker agrees")

        // The running transaction tier refuses to sign the rewritten log and reports it.
        let health = try await deployment.coffer(["history", container, "--verify"], user: "alice")
        #expect(health.status != 0, "\(tamper): \(health.stdout)")
        let healthLog = deployment.transaction?.standardError ?? ""
        #expect(healthLog.contains("audit log inconsistency"), "\(tamper)")

        // The administrator also drops the stored checkpoints, and a fresh transaction process signs the
        // rewritten log: the client's own older checkpoint still catches it, and so does an auditor who kept it.
        try AuditTampering.dropCheckpoints(store: deployment.store)
        try await deployment.restartTransaction(checkpointState: deployment.directory + "/fresh.state")
        let caught = try await deployment.coffer(["history", container, "--verify"], user: "alice")
        #expect(caught.status == 65, "\(tamper): \(caught.stdout)\(caught.stderr)")
        #expect(caught.stderr.contains("THE AUDIT HISTORY WAS REWRITTEN"), "\(tamper): \(caught.stderr)")
        let export2 = deployment.directory + "/export2"
        #expect(try await deployment.admin(["audit", "export", export2]).status == 0)
        let withKnown = try await deployment.admin(["audit", "verify", export2, "--key", vkey, "--known", clientCheckpoint + "/" + kept])
        #expect(withKnown.status == 65, "\(tamper): \(withKnown.stdout)")
    }
}

/// Plays the malicious database administrator: rewrites the audit rows behind the database tier.
enum AuditTampering {
    static func connect(_ store: String) throws -> any SQLConnection {
        store.hasPrefix("postgresql://") ? try PostgresConnection(url: store) : try SQLiteConnection(path: store)
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

/// Failing closed, and staying verifiable under a flood of failures.
@Suite(.serialized) struct AuditFailureTests {
    static func health(_ deployment: LocalDeployment) async throws -> (status: Int, body: String) {
        let address = try ServerAddress(deployment.serverURL.replacingOccurrences(of: "https://127.0.0.1", with: "localhost"))
        return try await KeyServiceClient(server: address, caFile: deployment.caFile).health()
    }

    @Test("when an audit entry cannot be written the save does not happen, the client is told why, and health reports it")
    func failClosed() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("carol")
        let file = deployment.directory + "/ledger.txt"
        try Data("ledger".utf8).write(to: URL(fileURLWithPath: file))

        let db = try SQLiteConnection(path: deployment.store)
        try db.execute("CREATE TRIGGER fail_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        let saved = try await deployment.coffer(["save", file], user: "carol")
        #expect(saved.status == 69, "\(saved.stderr)")
        #expect(saved.stderr.contains("the audit history could not be written, so nothing was done"), "\(saved.stderr)")
        #expect(!FileManager.default.fileExists(atPath: file + ".coffer"), "no container without its audit entry")
        #expect(try db.query("SELECT COUNT(*) FROM records", []).first?.int(0) == 0, "no record without its audit entry")
        let degraded = try await Self.health(deployment)
        #expect(degraded.status == 503)
        #expect(degraded.body.contains("\"audit\":\"failing: "), "\(degraded.body)")

        try db.execute("DROP TRIGGER fail_audit")
        #expect(try await deployment.coffer(["save", file], user: "carol").status == 0)
        let healthy = try await Self.health(deployment)
        #expect(healthy.status == 200, "\(healthy.body)")
        #expect(healthy.body.contains("\"audit\":\"ok\""))
    }

    @Test("one user's concurrent retrievals beyond the failure budget are all served: only failures spend it")
    func concurrentRetrievesAreNotFailures() async throws {
        let deployment = try await LocalDeployment.start(transactionArguments: ["--failure-limit-user", "2", "--failure-window-seconds", "60"])
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("fay")
        let files = (0..<6).map { deployment.directory + "/file\($0).txt" }
        for (n, file) in files.enumerated() {
            try Data("file number \(n)".utf8).write(to: URL(fileURLWithPath: file))
            #expect(try await deployment.coffer(["save", file], user: "fay").status == 0)
        }
        let results = try await withThrowingTaskGroup(of: CommandResult.self) { group in
            for file in files {
                group.addTask { try await deployment.coffer(["retrieve", file + ".coffer", "-o", file + ".out"], user: "fay") }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.stderr))")
        for (n, file) in files.enumerated() {
            #expect(try String(contentsOfFile: file + ".out", encoding: .utf8) == "file number \(n)")
        }
    }

    @Test("a flood of failed logins is refused at once beyond the budget, audited as one summary, and the log still verifies")
    func flood() async throws {
        let deployment = try await LocalDeployment.start(transactionArguments: ["--failure-limit-user", "3", "--failure-window-seconds", "15", "--lockout-attempts", "100"])
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("dave")
        let results = try await withThrowingTaskGroup(of: CommandResult.self) { group in
            for _ in 0..<12 {
                group.addTask { try await deployment.coffer(["login", "--password-stdin"], user: "dave", stdin: "wrong password\n") }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let statuses = results.map(\.status).sorted()
        #expect(statuses == Array(repeating: 69, count: 9) + Array(repeating: 77, count: 3), "3 wrong passwords, 9 refused at once: \(statuses)")
        #expect(results.contains { $0.stderr.contains("too many failed attempts") })
        try await deployment.registerAndLogin("erin")

        // The window ends 15 s after the first failure; its summary follows within 5 s.
        let db = try SQLiteConnection(path: deployment.store)
        for _ in 0..<60 where try db.query("SELECT COUNT(*) FROM audit_log WHERE kind = 'rate_limited'", []).first?.int(0) == 0 {
            try await Task.sleep(for: .seconds(1))
        }
        let export = deployment.directory + "/export"
        #expect(try await deployment.admin(["audit", "export", export]).status == 0)
        let leaves = try String(contentsOfFile: export + "/entries.jsonl", encoding: .utf8).split(separator: "\n").map { try AuditLeaf(bytes: Array($0.utf8)) }
        #expect(leaves.filter { $0.kind == "login_failed" && $0.user == "dave" }.count == 3)
        let summaries = leaves.filter { $0.kind == "rate_limited" }
        #expect(summaries.count == 1)
        #expect(summaries.first?.user == "dave")
        #expect(summaries.first?.detail.hasPrefix("9 attempts refused") == true, "\(summaries)")
        let verified = try await deployment.admin(["audit", "verify", export, "--key", deployment.directory + "/keys/transaction/checkpoint.vkey"])
        #expect(verified.status == 0, "\(verified.stdout)")
    }
}
