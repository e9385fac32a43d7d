import CofferTesting
import Foundation
import Testing

/// Server identity, device binding, replay and lockout, with the real processes.
@Suite(.serialized) struct IdentityTests {
    @Test("the server key is pinned at first contact; a changed or unexpected key is refused at login before the password is sent")
    func serverKeyPinning() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        let registered = try await deployment.coffer(["register", "--password-stdin", "--timeout", "60"], user: "hana", stdin: "hana's password\n")
        #expect(registered.status == 0)
        #expect(registered.stderr.contains("pinned the identity key"))
        let known = deployment.clientEnvironment(user: "hana")["COFFER_HOME"]! + "/known_servers"
        let pinned = try String(contentsOfFile: known, encoding: .utf8)
        let fingerprint = try #require(pinned.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines))

        let expected = try await deployment.coffer(["login", "--password-stdin", "--timeout", "60", "--server-key", fingerprint], user: "hana", stdin: "hana's password\n")
        #expect(expected.status == 0, "\(expected.stderr)")
        let wrong = try await deployment.coffer(["login", "--password-stdin", "--timeout", "60", "--server-key", "sha256:" + String(repeating: "0", count: 64)], user: "hana", stdin: "hana's password\n")
        #expect(wrong.status == 77)

        // Another server key pinned for this address: what a client sees when someone impersonates the service.
        let other = "sha256:" + String(repeating: "ab", count: 32)
        try pinned.replacingOccurrences(of: fingerprint, with: other).write(toFile: known, atomically: true, encoding: .utf8)
        let changed = try await deployment.coffer(["login", "--password-stdin", "--timeout", "60"], user: "hana", stdin: "hana's password\n")
        #expect(changed.status == 77)
        #expect(changed.stderr.contains("IDENTITY KEY HAS CHANGED"))
        let history = try await deployment.coffer(["history", "--json"], user: "hana")
        #expect(!history.stdout.contains("login_failed"), "the password was never sent to the impostor")
    }

    @Test("a session copied to another installation is useless without its device key")
    func stolenSession() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("ivan")
        let home = deployment.clientEnvironment(user: "ivan")["COFFER_HOME"]!
        let thief = deployment.directory + "/thief"
        try FileManager.default.createDirectory(atPath: thief, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: home + "/sessions", toPath: thief + "/sessions")
        try FileManager.default.copyItem(atPath: home + "/known_servers", toPath: thief + "/known_servers")
        var environment = deployment.clientEnvironment(user: "ivan")
        environment["COFFER_HOME"] = thief
        let process = try TestProcess(TestEnvironment.binary("coffer"), ["history"], environment: environment, logDirectory: deployment.directory)
        #expect(try await process.wait() == 77)
        #expect(process.standardError.contains("not signed by the device"))
    }

    @Test("captured signed requests (a history read and a save) replayed byte for byte are refused",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
    func replayRefused() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("judy")
        let environment = deployment.clientEnvironment(user: "judy")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Interop/replay_request.py").path
        let process = try TestProcess("/usr/bin/python3", [script, environment["COFFER_SERVER"]!, environment["COFFER_CA"]!, environment["COFFER_HOME"]!, "judy"],
                                      environment: ["PATH": "/usr/bin:/bin", "HOME": NSHomeDirectory()], logDirectory: deployment.directory)
        #expect(try await process.wait() == 0, "\(process.standardError)")
        #expect(process.standardOutput.split(separator: "\n") == ["200", "409", "200", "409"])
        let records = try await deployment.coffer(["list", "--json"], user: "judy")
        #expect(records.stdout.components(separatedBy: "captured.txt").count == 2, "the replayed save made no second record")
    }

    @Test("five failed logins lock the account; the right password is then refused too, and the lock is in the history")
    func lockout() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("kate", password: "kate's real password")
        for _ in 0..<5 {
            let failed = try await deployment.coffer(["login", "--password-stdin", "--timeout", "60"], user: "kate", stdin: "guess guess guess\n")
            #expect(failed.status == 77)
        }
        let locked = try await deployment.coffer(["login", "--password-stdin", "--timeout", "60"], user: "kate", stdin: "kate's real password\n")
        #expect(locked.status == 77)
        #expect(locked.stderr.contains("locked"))
        let history = try await deployment.coffer(["history", "--json"], user: "kate")
        #expect(history.stdout.contains("\"locked\""), "\(history.stdout)")
    }
}
