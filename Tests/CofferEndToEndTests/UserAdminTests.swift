import CofferStorage
import CofferTesting
import Foundation
import Testing

/// An operator locks an account (a laptop was stolen): the open session is refused at once for every
/// operation, the lock is audited, and unlocking restores the account.
@Suite(.serialized) struct UserAdminTests {
    @Test("coffer-admin users lock stops an account's open session at once and its logins; it is audited; unlock restores it", arguments: EndToEndTests.stores)
    func lockAndUnlock(store: EndToEndTests.Store) async throws {
        let deployment = try await EndToEndTests.deploy(store)
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("kim")
        try await deployment.registerAndLogin("lee")
        let file = deployment.directory + "/kim.txt"
        try Data("kim's file".utf8).write(to: URL(fileURLWithPath: file))
        #expect(try await deployment.coffer(["save", file], user: "kim").status == 0)

        let locked = try await deployment.admin(["users", "lock", "kim", "--reason", "laptop reported stolen"])
        #expect(locked.status == 0, "\(locked.stderr)")
        #expect(locked.stdout.contains("locked kim"))

        // The session issued before the lock is still unexpired, and gets nothing.
        for arguments in [["retrieve", file + ".coffer", "-o", file + ".out"], ["save", file, "-o", file + ".2.coffer"], ["list"],
                          ["history", file + ".coffer"], ["delete", file + ".coffer", "--yes"]] {
            let refused = try await deployment.coffer(arguments, user: "kim")
            #expect(refused.status == 77, "\(arguments[0]): \(refused.status) \(refused.stderr)")
            #expect(refused.stderr.contains("locked by an operator"), "\(arguments[0]): \(refused.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: file + ".out"))
        let login = try await deployment.coffer(["login", "--password-stdin", "--timeout", "60"], user: "kim", stdin: "correct horse battery staple\n")
        #expect(login.status == 77 && login.stderr.contains("locked by an operator"), "\(login.stderr)")
        // Another account is untouched.
        #expect(try await deployment.coffer(["list"], user: "lee").status == 0)

        let list = try await deployment.admin(["users", "list"])
        #expect(list.status == 0, "\(list.stderr)")
        let lines = list.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("kim ") && $0.contains("locked") && !$0.contains("locked-out") }, "\(list.stdout)")
        #expect(lines.contains { $0.hasPrefix("lee ") && $0.contains("active") }, "\(list.stdout)")
        let unknown = try await deployment.admin(["users", "lock", "nobody"])
        #expect(unknown.status == 67 && unknown.stderr.contains("no user nobody"), "\(unknown.stderr)")
        // A database tier that does not answer: a clear line and exit 69, not a hang.
        let nowhere = try TestProcess(TestEnvironment.binary("coffer-admin"), [
            "users", "lock", "kim", "--keys", deployment.directory + "/keys", "--database", "tcp://127.0.0.1:\(try TestEnvironment.freePort())", "--timeout", "2",
        ], environment: ["PATH": "/usr/bin:/bin"], logDirectory: deployment.directory)
        #expect(try await nowhere.wait(timeout: .seconds(60)) == 69)
        #expect(nowhere.standardError.contains("cannot lock kim"), "\(nowhere.standardError)")

        let unlocked = try await deployment.admin(["users", "unlock", "kim"])
        #expect(unlocked.status == 0, "\(unlocked.stderr)")
        // The session that was open when the lock came does not come back with the unlock.
        let stale = try await deployment.coffer(["list"], user: "kim")
        #expect(stale.status == 77 && stale.stderr.contains("run `coffer login`"), "\(stale.stderr)")
        let again = try await deployment.coffer(["login", "--password-stdin", "--timeout", "60"], user: "kim", stdin: "correct horse battery staple\n")
        #expect(again.status == 0, "\(again.stderr)")
        let retrieved = try await deployment.coffer(["retrieve", file + ".coffer", "-o", file + ".out"], user: "kim")
        #expect(retrieved.status == 0, "\(retrieved.stderr)")
        #expect(try String(contentsOfFile: file + ".out", encoding: .utf8) == "kim's file")

        // Kim's own history shows the lock, the refused retrieval and the unlock.
        let history = try await deployment.coffer(["history", file + ".coffer"], user: "kim")
        #expect(history.stdout.contains("locked by an operator"), "\(history.stdout)")
        let export = deployment.directory + "/export"
        #expect(try await deployment.admin(["audit", "export", export]).status == 0)
        let entries = try String(contentsOfFile: export + "/entries.jsonl", encoding: .utf8)
        #expect(entries.contains("locked by an operator: laptop reported stolen"))
        #expect(entries.contains("unlocked by an operator"))
    }

    @Test("a healthy audit export and users list write no retry warning while the tier link's first handshake completes")
    func noWarningWhenHealthy() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("mia")
        for arguments in [["audit", "export", deployment.directory + "/export"], ["users", "list"]] {
            let result = try await deployment.admin(arguments)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(!result.stderr.contains("retrying") && !result.stdout.contains("retrying"), "\(arguments[0]): \(result.stderr)")
        }
    }
}
