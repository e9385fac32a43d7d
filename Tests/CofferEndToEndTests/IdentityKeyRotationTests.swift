import CofferTesting
import Foundation
import Testing

/// Rotating the identity and receipt signing key under load: every process is given the next key
/// ahead of its moment, all switch at that moment, clients move their pin through the old key's
/// statement, and receipts signed by the old key still verify, with `openssl ts -verify` too.
@Suite(.serialized) struct IdentityKeyRotationTests {
    static func fingerprintPinned(_ deployment: LocalDeployment, user: String, installation: String? = nil) -> [String] {
        let home = deployment.clientEnvironment(user: user, installation: installation)["COFFER_HOME"] ?? ""
        return ((try? String(contentsOfFile: home + "/known_servers", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test("the identity key is rotated under saves and retrieves with two processes restarted in turn: no request fails, clients follow the statement, old receipts verify")
    func rotateIdentityKey() async throws {
        let (deployment, work) = try await LocalDeployment.forRotation(user: "omar", moreArguments: ["--metrics", "127.0.0.1:0"])
        defer { deployment.terminate() }
        try await deployment.login("omar", installation: "laptop")
        // A container sealed by the old key and never opened again: its receipt keeps the old key's token.
        let kept = work + "/kept.txt"
        try Data("kept under the old key".utf8).write(to: URL(fileURLWithPath: kept))
        #expect(try await deployment.coffer(["save", kept], user: "omar").status == 0)
        let oldPin = try #require(Self.fingerprintPinned(deployment, user: "omar").first)

        let load = SaveRetrieveLoad(deployment, user: "omar", work: work)

        // 1: the next key, its statement (its moment a little ahead) and its time-stamping certificate.
        let newKey = deployment.directory + "/keys/transaction/signing-2.key.pem"
        let moment = Date().addingTimeInterval(35)
        let made = try await deployment.admin(["keys", "new-identity-key", "--current", deployment.signingKeyFile,
                                               "--at", ISO8601DateFormatter().string(from: moment), newKey])
        #expect(made.status == 0, "\(made.stderr)")
        let statement = deployment.directory + "/keys/transaction/signing-2.rotation.json"
        #expect(FileManager.default.fileExists(atPath: statement), "\(made.stdout)")
        let certificates = TestCertificates(directory: deployment.directory + "/tls")
        let newCertificate = try await certificates.issueTimestampingCertificate(for: newKey, commonName: "Coffer test TSA 2",
                                                                                 to: deployment.directory + "/tls/tsa-2.crt")
        // 2: every process learns the next key before its moment, and still presents the old one.
        let base = deployment.transactionArguments
        deployment.transactionArguments = base + ["--signing-key-next", newKey, "--tsa-cert-next", newCertificate, "--identity-rotation-next", statement]
        for index in 0..<2 { try await deployment.restartTransactionProcess(index, graceful: true) }
        let status = try await deployment.admin(["status", "--transaction", try #require(deployment.transactionMetrics)])
        #expect(status.stdout.contains("takes over at"), "the status names the scheduled key: \(status.stdout)")
        let before = try await deployment.coffer(["login", "--password-stdin"], user: "omar", stdin: "correct horse battery staple\n")
        #expect(before.status == 0 && !before.stderr.contains("rotated"), "before the moment the old key is presented: \(before.stderr)")
        #expect(Date() < moment, "the rolling restart finished before the moment (it took too long on this machine to show it)")

        // 3: at the moment, every process switches; a client moves its pin through the statement.
        try await Task.sleep(for: .seconds(max(0, moment.timeIntervalSinceNow) + 1))
        let after = try await deployment.coffer(["login", "--password-stdin"], user: "omar", stdin: "correct horse battery staple\n")
        #expect(after.status == 0, "\(after.stderr)")
        #expect(after.stderr.contains("rotated its identity key"), "\(after.stderr)")
        let pins = Self.fingerprintPinned(deployment, user: "omar")
        #expect(pins.count == 2 && !pins[0].contains(oldPin.split(separator: " ")[1]) && pins[1].hasPrefix(oldPin + " retired"), "\(pins)")
        let history = try await deployment.coffer(["history", kept + ".coffer", "--verify"], user: "omar")
        #expect(history.status == 0, "the checkpoint key is vouched for by the new identity key: \(history.stderr)")

        // 4: the new key becomes signing-key; the statement stays, for clients that have not connected since.
        deployment.signingKeyFile = newKey
        deployment.tsaCertificateFile = newCertificate
        deployment.transactionArguments = base + ["--identity-rotation", statement]
        for index in 0..<2 { try await deployment.restartTransactionProcess(index, graceful: true) }
        try await Task.sleep(for: .seconds(1))
        let (failures, operations) = try await load.stop()
        #expect(failures.isEmpty, "\(failures.count) failed requests: \(failures.prefix(3))")
        #expect(operations > 0, "the load ran through the rotation")

        // The other installation pinned the old key and slept through the rotation: it follows the statement.
        let laptop = try await deployment.coffer(["login", "--password-stdin"], user: "omar", installation: "laptop", stdin: "correct horse battery staple\n")
        #expect(laptop.status == 0 && laptop.stderr.contains("rotated its identity key"), "\(laptop.stderr)")

        // Receipts of both keys verify against the CA, offline and with openssl.
        for container in [kept + ".coffer"] + (await load.results.saved.suffix(1).map { $0.file + ".coffer" }) {
            let verified = try await deployment.coffer(["verify", container], user: "omar")
            #expect(verified.status == 0, "\(container): \(verified.stderr)")
            let out = container + ".receipt"
            #expect(try await deployment.coffer(["receipt", container, "--out", out], user: "omar").status == 0)
            let ok = try await TestCertificates.openssl(["ts", "-verify", "-data", out + "/receipt.dat", "-in", out + "/receipt.tst", "-token_in",
                                                         "-CAfile", deployment.caFile], in: deployment.directory)
            #expect(ok.contains("Verification: OK"), "\(container): \(ok)")
        }
        let oldSigner = try await TestCertificates.openssl(["ts", "-reply", "-in", kept + ".coffer.receipt/receipt.tst", "-token_in", "-text"], in: deployment.directory)
        #expect(!oldSigner.contains("TSA 2"), "the kept container's receipt is the old key's")
        let retrieved = try await deployment.coffer(["retrieve", kept + ".coffer", "-o", work + "/kept.out", "--force"], user: "omar")
        #expect(retrieved.status == 0, "\(retrieved.stderr)")
        #expect(FileManager.default.contents(atPath: work + "/kept.out") == Data("kept under the old key".utf8))
        for (file, content) in await load.results.saved {
            let out = file + ".opened"
            let opened = try await deployment.coffer(["retrieve", file + ".coffer", "-o", out, "--force"], user: "omar")
            #expect(opened.status == 0, "\(file): \(opened.stderr)")
            #expect(FileManager.default.contents(atPath: out) == content)
        }
    }

    @Test("a process refuses to start with a next key whose statement is not the current key's, or without its certificate")
    func refusals() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        let keys = deployment.directory + "/keys/transaction"
        let newKey = keys + "/signing-2.key.pem"
        #expect(try await deployment.admin(["keys", "new-identity-key", "--current", deployment.signingKeyFile, "--in-minutes", "5", newKey]).status == 0)
        let certificate = try await TestCertificates(directory: deployment.directory + "/tls")
            .issueTimestampingCertificate(for: newKey, commonName: "Coffer test TSA 2", to: deployment.directory + "/tls/tsa-2.crt")
        // A statement made by another key than the one in force.
        let stranger = keys + "/stranger.key.pem", strangerNext = keys + "/stranger-next.key.pem"
        try await TestCertificates.openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", stranger], in: keys)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: stranger)
        #expect(try await deployment.admin(["keys", "new-identity-key", "--current", stranger, "--in-minutes", "5", strangerNext]).status == 0)
        let cases: [(String, [String], String)] = [
            ("a statement by another key", ["--signing-key-next", newKey, "--tsa-cert-next", certificate, "--identity-rotation-next", keys + "/stranger-next.rotation.json"],
             "is not the statement"),
            ("no certificate", ["--signing-key-next", newKey, "--identity-rotation-next", keys + "/signing-2.rotation.json"], "needs tsa-cert-next"),
            ("the current key's certificate for the next key", ["--signing-key-next", newKey, "--tsa-cert-next", deployment.tsaCertificateFile,
                                                                "--identity-rotation-next", keys + "/signing-2.rotation.json"], "tsa-cert-next"),
            ("an earlier statement that does not lead to the key in force", ["--identity-rotation", keys + "/stranger-next.rotation.json"], "do not lead"),
        ]
        for (what, flags, says) in cases {
            let refused = try await deployment.transactionRefusal(flags)
            #expect(refused.status != 0, "\(what)")
            #expect(refused.stderr.contains(says), "\(what): \(refused.stderr)")
        }
        let twice = try await deployment.admin(["keys", "new-identity-key", "--current", deployment.signingKeyFile, "--in-minutes", "5", newKey])
        #expect(twice.status != 0, "an existing key file is never overwritten")
        let past = try await deployment.admin(["keys", "new-identity-key", "--current", deployment.signingKeyFile, "--at", "2020-01-01T00:00:00Z", keys + "/late.key.pem"])
        #expect(past.status == 64 && past.stderr.contains("in the past"), "\(past.stderr)")
        #expect(!FileManager.default.fileExists(atPath: keys + "/late.key.pem"))
    }
}
