import CofferTesting
import Foundation
import Testing

/// `coffer-admin status` against the real tiers: every component and its level, as a table and as
/// JSON, and an exit status an alerting script can use.
@Suite(.serialized) struct AdminStatusTests {
    struct Report: Decodable {
        struct Status: Decodable {
            struct Check: Decodable { let component: String; let level: String; let detail: String }
            struct Store: Decodable { let kind: String; let records: Int64; let auditEntries: Int64; let checkpointSize: Int64; let replication: String }
            struct Transaction: Decodable { let ready: Bool; let audit: String; let identityKey: String; let checkpointKey: String; let keyBackend: String }
            let checks: [Check]
            let store: Store?
            let transactions: [String: Transaction]
        }
        let level: String
        let status: Status
    }

    @Test("status is ok and names the store, the audit log and each process's keys; a stale checkpoint is a warning (1); a tier down is critical (2)")
    func levels() async throws {
        // Checkpoints only when asked for, so that the test decides how old the newest one is.
        let deployment = try await LocalDeployment.start(transactionArguments: ["--metrics", "127.0.0.1:0", "--checkpoint-seconds", "3600"])
        defer { deployment.terminate() }
        let listener = try #require(deployment.transactionMetrics)
        try await deployment.registerAndLogin("wren")
        let file = deployment.directory + "/w.txt"
        try Data("w".utf8).write(to: URL(fileURLWithPath: file))
        #expect(try await deployment.coffer(["save", file], user: "wren").status == 0)
        #expect(try await deployment.coffer(["history", file + ".coffer", "--verify"], user: "wren").status == 0)

        let ok = try await deployment.admin(["status", "--transaction", listener, "--json"])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(ok.stdout.utf8))
        #expect(report.level == "ok")
        let store = try #require(report.status.store)
        #expect(store.kind == "sqlite" && store.records == 1 && store.checkpointSize == store.auditEntries && store.replication.hasPrefix("none"))
        let process = try #require(report.status.transactions[listener])
        #expect(process.ready && process.audit == "ok" && process.keyBackend == "key files")
        #expect(process.identityKey.hasPrefix("sha256:") && process.checkpointKey.hasPrefix("coffer/audit+"))
        #expect(Set(report.status.checks.map(\.component)) == ["database \(deployment.databaseEndpoint)", "replication", "audit log", "transaction \(listener)"])

        let table = try await deployment.admin(["status", "--transaction", listener])
        #expect(table.status == 0)
        #expect(table.stdout.contains("audit log") && table.stdout.contains("OK"), "\(table.stdout)")

        // Entries newer than the newest checkpoint, for longer than allowed: a warning.
        #expect(try await deployment.coffer(["save", file, "--force"], user: "wren").status == 0)
        try await Task.sleep(for: .milliseconds(2_100))
        let stale = try await deployment.admin(["status", "--transaction", listener, "--stale-checkpoint-seconds", "1"])
        #expect(stale.status == 1, "\(stale.stdout)")
        #expect(stale.stdout.contains("WARNING") && stale.stdout.contains("waited longer"), "\(stale.stdout)")

        // A listener that is not there, and then the database tier gone: critical.
        let nowhere = try await deployment.admin(["status", "--transaction", "127.0.0.1:\(try TestEnvironment.freePort())"])
        #expect(nowhere.status == 2, "\(nowhere.stdout)")
        #expect(nowhere.stdout.contains("CRITICAL") && nowhere.stdout.contains("cannot reach"), "\(nowhere.stdout)")
        // A listener that answers, but is not a transaction process's (the database tier's health probes).
        let other = try await deployment.admin(["status", "--transaction", "127.0.0.1:\(deployment.databaseHealthPorts[0])"])
        #expect(other.status == 2, "\(other.stdout)")
        #expect(other.stdout.contains("is it a transaction process's metrics listener"), "\(other.stdout)")
        deployment.database?.killAndReap()
        let down = try await deployment.admin(["status", "--transaction", listener, "--timeout", "2"])
        #expect(down.status == 2, "\(down.stdout)")
        #expect(down.stdout.contains("unreachable") && down.stdout.contains("not ready: database tier unavailable"), "\(down.stdout)")
    }
}
