import CofferAPI
import CofferAudit
import CofferStorage
import CofferTesting
import Crypto
import Foundation
import Testing

/// Abuse limits at the transaction tier: failed attempts are budgeted per source address, password
/// work is bounded however many addresses and accounts a flood uses, and idle or slow connections
/// are closed. Each test checks that other users keep being served meanwhile.
@Suite(.serialized) struct AbuseTests {
    static let slowClient = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Abuse/slow_client.py").path

    /// A login with a wrong password for `user`, sent from the loopback address `source` with curl;
    /// returns the HTTP status and body.
    func badLogin(_ deployment: LocalDeployment, user: String, from source: String) async throws -> (status: Int, body: String) {
        let folder = deployment.directory + "/abuse"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let body = try JSONEncoder().encode(LoginRequest(
            user: user, password: "not the password", clientID: UUID().uuidString,
            deviceKey: P256.Signing.PrivateKey().publicKey.x963Representation.base64EncodedString()
        ))
        let name = UUID().uuidString
        try body.write(to: URL(fileURLWithPath: folder + "/" + name + ".json"))
        let curl = try TestProcess("/usr/bin/curl", [
            "-sS", "--interface", source, "--cacert", deployment.caFile, "-o", folder + "/" + name + ".out", "-w", "%{http_code}",
            "-H", "Content-Type: application/json", "--data-binary", "@" + folder + "/" + name + ".json", deployment.serverURL + "/v1/login",
        ], environment: ["PATH": "/usr/bin:/bin"], logDirectory: folder)
        #expect(try await curl.wait(timeout: .seconds(60)) == 0, "\(curl.standardError)")
        let reply = (try? String(contentsOfFile: folder + "/" + name + ".out", encoding: .utf8)) ?? ""
        return (Int(curl.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, reply)
    }

    @Test("failed logins from one address are refused at once beyond that address's budget and audited; a user at another address logs in")
    func perSourceBudget() async throws {
        let deployment = try await LocalDeployment.start(transactionArguments: [
            // A window long enough for the seven attempts below to fall in one, however loaded the machine.
            "--failure-limit-source", "3", "--failure-limit-user", "100", "--failure-window-seconds", "40", "--lockout-attempts", "100",
        ])
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("hana")
        var statuses: [Int] = []
        var replies: [String] = []
        for n in 0..<7 {
            // The second guess names a registered user: the answer must be the same as for a made-up name.
            let reply = try await badLogin(deployment, user: n == 1 ? "hana" : "guess\(n)", from: "127.0.0.2")
            statuses.append(reply.status)
            replies.append(reply.body)
            if reply.status == 429 { #expect(reply.body.contains("rate_limited") && !reply.body.contains("guess")) }
        }
        #expect(replies[0] == replies[1], "an unknown user and a wrong password must answer alike: \(replies[0]) / \(replies[1])")
        #expect(statuses == [401, 401, 401, 429, 429, 429, 429], "\(statuses)")
        // The budget is per address: the same flood did not touch 127.0.0.1.
        let login = try await deployment.coffer(["login", "--password-stdin"], user: "hana", stdin: "correct horse battery staple\n")
        #expect(login.status == 0, "\(login.stderr)")

        // The window's refusals are audited as one entry naming the address, once the window ends.
        let db = try SQLiteConnection(path: deployment.store)
        var summaries: [String] = []
        for _ in 0..<90 {
            summaries = try db.query("SELECT source, detail FROM audit_log WHERE kind = 'rate_limited'", []).map { "\(try $0.text(0)) \(try $0.text(1))" }
            if !summaries.isEmpty { break }
            try await Task.sleep(for: .seconds(1))
        }
        #expect(summaries.count == 1)
        #expect(summaries.first?.hasPrefix("127.0.0.2 4 attempts refused") == true, "\(summaries)")
        let failed = try db.query("SELECT COUNT(*) FROM audit_log WHERE kind = 'login_failed' AND source = '127.0.0.2'", []).first?.int(0)
        #expect(failed == Int64(3))
    }

    @Test("a login flood across many accounts is held to the password workers, the rest refused busy and audited as a count; another user saves and retrieves meanwhile")
    func passwordWorkFlood() async throws {
        let deployment = try await LocalDeployment.start(transactionArguments: [
            "--password-workers", "1", "--password-queue", "2",
            "--failure-limit-source", "1000", "--failure-limit-user", "1000", "--lockout-attempts", "1000",
        ])
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("iris")
        let file = deployment.directory + "/iris.txt"
        try Data("iris's file".utf8).write(to: URL(fileURLWithPath: file))

        let (flood, save, retrieve) = try await withThrowingTaskGroup(of: [(Int, String)].self) { group in
            for n in 0..<24 {
                group.addTask { [try await badLogin(deployment, user: "flood\(n)", from: "127.0.0.3")] }
            }
            var flood: [(Int, String)] = []
            for _ in 0..<8 { flood += try await group.next() ?? [] }
            // The flood is under way: the other user's work must go through.
            let save = try await deployment.coffer(["save", file], user: "iris")
            let retrieve = try await deployment.coffer(["retrieve", file + ".coffer", "-o", file + ".out"], user: "iris")
            for try await more in group { flood += more }
            return (flood, save, retrieve)
        }
        #expect(save.status == 0, "\(save.stderr)")
        #expect(retrieve.status == 0, "\(retrieve.stderr)")
        #expect(try String(contentsOfFile: file + ".out", encoding: .utf8) == "iris's file")

        let busy = flood.filter { $0.0 == 503 }
        let checked = flood.filter { $0.0 == 401 }
        #expect(busy.count + checked.count == 24, "\(flood.map(\.0))")
        #expect(!busy.isEmpty, "24 logins at once against one worker and a queue of 2 were all checked")
        #expect(busy.allSatisfy { $0.1.contains("\"busy\"") && !$0.1.contains("flood") })
        // Each checked attempt has its entry; the refused ones are counted in rate_limited entries.
        let db = try SQLiteConnection(path: deployment.store)
        let audited = try db.query("SELECT COUNT(*) FROM audit_log WHERE kind = 'login_failed' AND source = '127.0.0.3'", []).first?.int(0)
        #expect(audited == Int64(checked.count))
        var refusedAudited = 0
        for _ in 0..<30 {
            let details = try db.query("SELECT detail FROM audit_log WHERE kind = 'rate_limited'", []).map { try $0.text(0) }
            refusedAudited = details.compactMap { $0.hasSuffix("1 password checks running and 2 waiting") ? Int($0.prefix { $0.isNumber }) : nil }.reduce(0, +)
            if refusedAudited >= busy.count { break }
            try await Task.sleep(for: .seconds(1))
        }
        #expect(refusedAudited == busy.count)
    }

    @Test("a connection that sends nothing, or a request head a byte at a time, is closed after the idle timeout; one in use stays open")
    func idleConnections() async throws {
        let deployment = try await LocalDeployment.start(transactionArguments: ["--idle-seconds", "2"])
        defer { deployment.terminate() }
        let port = try #require(deployment.serverURL.split(separator: ":").last.map(String.init))
        func hold(_ mode: String) async throws -> TestProcess {
            try TestProcess("/usr/bin/python3", [Self.slowClient, mode, "127.0.0.1", port, deployment.caFile],
                            environment: ["PATH": "/usr/bin:/bin"], logDirectory: deployment.directory)
        }
        let silent = try await hold("silent"), dribble = try await hold("dribble"), active = try await hold("active")
        #expect(try await silent.wait(timeout: .seconds(60)) == 0, "\(silent.standardOutput)\(silent.standardError)")
        #expect(try await dribble.wait(timeout: .seconds(60)) == 0, "\(dribble.standardOutput)\(dribble.standardError)")
        #expect(try await active.wait(timeout: .seconds(60)) == 0, "\(active.standardOutput)\(active.standardError)")
        try await deployment.registerAndLogin("jude")
    }

    @Test("one user's saves, retrievals and deletes beyond the per-user limit get 429 with Retry-After and are audited as one summary; registrations beyond the per-address limit too")
    func perUserAndRegistrationLimits() async throws {
        let deployment = try await LocalDeployment.start(transactionArguments: [
            "--user-change-burst", "4", "--user-changes-per-hour", "60", "--register-burst", "3", "--registrations-per-hour", "1",
            "--failure-window-seconds", "2",
        ])
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("kai")
        let files = (0..<6).map { deployment.directory + "/limit\($0).txt" }
        var statuses: [Int32] = []
        for file in files {
            try Data("x".utf8).write(to: URL(fileURLWithPath: file))
            let saved = try await deployment.coffer(["save", file], user: "kai")
            statuses.append(saved.status)
            if saved.status != 0 {
                #expect(saved.stderr.contains("too many saves, retrievals and deletes for this account") && saved.stderr.contains("retry after"), "\(saved.stderr)")
            }
        }
        #expect(statuses == [0, 0, 0, 0, 69, 69], "the burst of 4, then refused: \(statuses)")
        #expect(!FileManager.default.fileExists(atPath: files[4] + ".coffer"), "a refused save writes nothing")
        let retrieve = try await deployment.coffer(["retrieve", files[0] + ".coffer", "-o", files[0] + ".out"], user: "kai")
        #expect(retrieve.status == 69, "retrievals share the budget: \(retrieve.stderr)")
        #expect(try await deployment.coffer(["list"], user: "kai").status == 0, "reads are not limited")

        // A third registration from this address is fine, a fourth refused.
        try await deployment.registerAndLogin("lou")
        try await deployment.registerAndLogin("mel")
        let refused = try await deployment.coffer(["register", "--password-stdin"], user: "ned", stdin: "correct horse battery staple\n")
        #expect(refused.status == 69 && refused.stderr.contains("too many accounts were registered from this address"), "\(refused.stderr)")

        // Both refusals are audited once, as summaries.
        var summaries: [String] = []
        for _ in 0..<40 {
            let history = try await deployment.coffer(["history", "--json"], user: "kai")
            let events = try JSONDecoder().decode(EndToEndTests.History.self, from: Data(history.stdout.utf8)).events
            summaries = events.filter { $0.kind == "rate_limited" }.map(\.detail)
            if !summaries.isEmpty { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(summaries.count == 1 && summaries.first?.hasPrefix("3 saves, retrievals and deletes refused beyond the per-user limit") == true, "\(summaries)")
        let export = deployment.directory + "/export"
        for _ in 0..<40 {
            try? FileManager.default.removeItem(atPath: export)
            #expect(try await deployment.admin(["audit", "export", export]).status == 0)
            if try String(contentsOfFile: export + "/entries.jsonl", encoding: .utf8).contains("registrations refused beyond the per-address limit") { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        let leaves = try String(contentsOfFile: export + "/entries.jsonl", encoding: .utf8).split(separator: "\n").map { try AuditLeaf(bytes: Array($0.utf8)) }
        #expect(leaves.filter { $0.kind == "rate_limited" && $0.detail.contains("registrations refused") }.count == 1)
        #expect(leaves.filter { $0.kind == "save" }.count == 4)
    }
}
