import CofferAudit
import CofferClient
import CofferStorage
import CofferTesting
import Foundation
import Testing

/// Failing closed, and staying verifiable under a flood of failures.
@Suite(.serialized) struct AuditFailureTests {
    static func health(_ deployment: LocalDeployment) async throws -> (status: Int, body: String) {
        let address = try ServerAddress(deployment.serverURL.replacingOccurrences(of: "https://127.0.0.1", with: "localhost"))
        // A generous timeout: the suites share two cores, and this asks for the health, not the speed.
        return try await KeyServiceClient(server: address, caFile: deployment.caFile, timeout: .seconds(30)).health()
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
                group.addTask { try await deployment.coffer(["login", "--password-stdin"] + LocalDeployment.passwordTimeout, user: "dave", stdin: "wrong password\n") }
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
