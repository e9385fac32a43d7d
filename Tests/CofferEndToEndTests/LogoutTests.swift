import CofferAPI
import CofferTesting
import Foundation
import Testing

/// `coffer logout` ends a session on the key service, not only on the laptop: the token it held is
/// refused afterwards even with a valid device signature. `--everywhere` ends every installation's.
@Suite(.serialized) struct LogoutTests {
    /// Runs `coffer` as `user` from a second installation (its own state folder and device key).
    func fromDesktop(_ deployment: LocalDeployment, _ arguments: [String], user: String, stdin: String? = nil) async throws -> CommandResult {
        var environment = deployment.clientEnvironment(user: user)
        environment["COFFER_HOME"] = deployment.directory + "/desktop-" + user
        let process = try TestProcess(TestEnvironment.binary("coffer"), arguments, environment: environment,
                                      stdin: stdin.map { Array($0.utf8) }, logDirectory: deployment.directory)
        let status = try await process.wait(timeout: .seconds(120))
        return CommandResult(status: status, stdout: process.standardOutput, stderr: process.standardError)
    }

    @Test("coffer logout ends the session on the key service; --everywhere ends every installation's; both are audited", arguments: EndToEndTests.stores)
    func logout(store: EndToEndTests.Store) async throws {
        let deployment = try await EndToEndTests.deploy(store)
        defer { deployment.terminate() }
        let password = "correct horse battery staple\n"
        try await deployment.registerAndLogin("max")
        #expect(try await fromDesktop(deployment, ["login", "--password-stdin"], user: "max", stdin: password).status == 0)
        let laptop = try identity(deployment, "max")
        let sessionFolder = deployment.directory + "/client-max/sessions"
        let records = Call(method: "GET", path: "/v1/records", body: [])
        #expect(try await send(deployment, records, headers: try signed(records, token: laptop.token, signer: laptop.key)).status == 200)

        let out = try await deployment.coffer(["logout"], user: "max")
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("ended the session of max"), "\(out.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: sessionFolder).isEmpty, "the session file is removed")
        // The token the laptop held, signed anew by its own device key: refused by the key service.
        let reused = try await send(deployment, records, headers: try signed(records, token: laptop.token, signer: laptop.key))
        #expect(reused.status == 401 && reused.body.contains("session_ended"), "\(reused.status) \(reused.body)")
        let list = try await deployment.coffer(["list"], user: "max")
        #expect(list.status == 77 && list.stderr.contains("not logged in"), "\(list.stderr)")
        // The desktop's session is another installation's, and goes on.
        #expect(try await fromDesktop(deployment, ["list"], user: "max").status == 0)

        // A new login on the laptop works; a logout everywhere from the desktop ends it too.
        #expect(try await deployment.coffer(["login", "--password-stdin", "--timeout", "60"], user: "max", stdin: password).status == 0)
        #expect(try await deployment.coffer(["list"], user: "max").status == 0)
        let everywhere = try await fromDesktop(deployment, ["logout", "--everywhere"], user: "max")
        #expect(everywhere.status == 0 && everywhere.stdout.contains("on all installations"), "\(everywhere.stderr)")
        let ended = try await deployment.coffer(["list"], user: "max")
        #expect(ended.status == 77 && ended.stderr.contains("ended by a logout"), "\(ended.stderr)")
        // Logging out a session the key service already ended only forgets it.
        let stale = try await deployment.coffer(["logout"], user: "max")
        #expect(stale.status == 0 && stale.stdout.contains("no longer accepted"), "\(stale.status) \(stale.stdout) \(stale.stderr)")
        let nothing = try await deployment.coffer(["logout"], user: "max")
        #expect(nothing.status == 0 && nothing.stdout.contains("nothing to end"), "\(nothing.stdout)")
        let needsSession = try await deployment.coffer(["logout", "--everywhere"], user: "max")
        #expect(needsSession.status == 77 && needsSession.stderr.contains("run `coffer login`"), "\(needsSession.stderr)")

        let export = deployment.directory + "/export"
        #expect(try await deployment.admin(["audit", "export", export]).status == 0)
        let logouts = try String(contentsOfFile: export + "/entries.jsonl", encoding: .utf8)
            .split(separator: "\n").filter { $0.contains(#""kind":"logout""#) && $0.contains(#""user":"max""#) }
        #expect(logouts.count == 2, "\(logouts)")

        // A key service that does not answer: the session is forgotten here all the same, and the
        // command fails, saying the session stays valid there.
        #expect(try await deployment.coffer(["login", "--password-stdin", "--timeout", "60"], user: "max", stdin: password).status == 0)
        await deployment.transaction?.stop()
        let unreachable = try await deployment.coffer(["logout", "--timeout", "3"], user: "max")
        #expect(unreachable.status == 69 && unreachable.stderr.contains("stays valid there until"), "\(unreachable.status) \(unreachable.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: sessionFolder).isEmpty)
    }
}
