import CofferAPI
import CofferTesting
import Foundation
import Testing

/// `coffer password` changes the password after checking the current one: the old password stops
/// working, the user's other installations are logged out, and a wrong current password is a
/// failed login.
@Suite(.serialized) struct PasswordChangeTests {
    @Test("coffer password changes the password, ends the other installations' sessions, and treats a wrong current password as a failed login", arguments: EndToEndTests.stores)
    func change(store: EndToEndTests.Store) async throws {
        let deployment = try await EndToEndTests.deploy(store)
        defer { deployment.terminate() }
        let old = "correct horse battery staple", new = "tr0ubador & a new staple"
        try await deployment.registerAndLogin("ida", password: old)
        let logouts = LogoutTests()
        #expect(try await logouts.fromDesktop(deployment, ["login", "--password-stdin"], user: "ida", stdin: old + "\n").status == 0)

        let wrong = try await deployment.coffer(["password", "--password-stdin", "--timeout", "60"], user: "ida", stdin: "not the password\n\(new)\n")
        #expect(wrong.status == 77 && wrong.stderr.contains("current password is wrong"), "\(wrong.status) \(wrong.stderr)")
        let weak = try await deployment.coffer(["password", "--password-stdin", "--timeout", "60"], user: "ida", stdin: "\(old)\nshort\n")
        #expect(weak.status == 64, "\(weak.stderr)")
        // The key service checks the new password's strength itself, whatever the client does.
        let laptop = try identity(deployment, "ida")
        let weakCall = Call(method: "POST", path: "/v1/password",
                                                     body: Array(try JSONEncoder().encode(PasswordChangeRequest(password: old, newPassword: "short"))))
        let weakReply = try await send(deployment, weakCall, headers: try signed(weakCall, token: laptop.token, signer: laptop.key))
        #expect(weakReply.status == 400, "\(weakReply.status) \(weakReply.body)")

        let changed = try await deployment.coffer(["password", "--password-stdin", "--timeout", "60"], user: "ida", stdin: "\(old)\n\(new)\n")
        #expect(changed.status == 0 && changed.stdout.contains("changed the password of ida"), "\(changed.status) \(changed.stderr)")
        #expect(try await deployment.coffer(["list"], user: "ida").status == 0, "the installation that changed it stays logged in")
        let desktop = try await logouts.fromDesktop(deployment, ["list"], user: "ida")
        #expect(desktop.status == 77 && desktop.stderr.contains("password change"), "\(desktop.stderr)")
        let withOld = try await deployment.coffer(["login", "--password-stdin", "--timeout", "60"], user: "ida", stdin: old + "\n")
        #expect(withOld.status == 77, "the old password: \(withOld.stderr)")
        #expect(try await logouts.fromDesktop(deployment, ["login", "--password-stdin"], user: "ida", stdin: new + "\n").status == 0)
        #expect(try await logouts.fromDesktop(deployment, ["list"], user: "ida").status == 0)

        let export = deployment.directory + "/export"
        #expect(try await deployment.admin(["audit", "export", export]).status == 0)
        let entries = try String(contentsOfFile: export + "/entries.jsonl", encoding: .utf8).split(separator: "\n").filter { $0.contains(#""user":"ida""#) }
        #expect(entries.filter { $0.contains(#""kind":"password_changed""#) }.count == 1, "\(entries)")
        #expect(entries.contains { $0.contains(#""kind":"login_failed""#) && $0.contains("wrong current password in a password change") }, "\(entries)")

        // Guessing the current password through the change locks the account like failed logins do.
        for _ in 0..<5 {
            #expect(try await deployment.coffer(["password", "--password-stdin", "--timeout", "60"], user: "ida", stdin: "a wrong guess\n\(old)\n").status == 77)
        }
        let lockedOut = try await deployment.coffer(["password", "--password-stdin", "--timeout", "60"], user: "ida", stdin: "\(new)\n\(old)\n")
        #expect(lockedOut.status == 77 && lockedOut.stderr.contains("locked after repeated failed logins"), "\(lockedOut.stderr)")
    }
}
