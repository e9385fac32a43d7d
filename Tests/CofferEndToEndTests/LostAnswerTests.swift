import CofferTesting
import Foundation
import Testing

/// The client fails over whenever nothing was sent, says in plain words what happened, and after
/// a lost answer sends a request again only where that is safe.
@Suite(.serialized) struct LostAnswerTests {
    struct Records: Decodable {
        struct Record: Decodable { let recordID: String; let fileName: String }
        let records: [Record]
    }

    @Test("a server that closes the connection during the TLS handshake is failed over to; alone it is reported as such, not as a wrong CA")
    func handshakeFailover() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        let vanishing = try ClosingListener()
        defer { vanishing.stop() }
        let real = deployment.serverURL.replacingOccurrences(of: "https://127.0.0.1", with: "localhost")
        // The first address names the deployment (sessions and pins are kept under it).
        deployment.clientServers = "localhost:\(vanishing.port),\(real)"
        try await deployment.registerAndLogin("uma")
        let listed = try await deployment.coffer(["list"], user: "uma")
        #expect(listed.status == 0, "failed over to the next server: \(listed.stderr)")

        deployment.clientServers = "localhost:\(vanishing.port)"
        let alone = try await deployment.coffer(["list"], user: "uma")
        #expect(alone.status == 69, "\(alone.stderr)")
        #expect(alone.stderr.contains("closed the connection") && alone.stderr.contains("nothing was sent"), "\(alone.stderr)")
        #expect(!alone.stderr.contains("--ca") && !alone.stderr.contains("uncleanShutdown") && !alone.stderr.contains("handshakeFailed"), "\(alone.stderr)")

        // A port bound by no listener refuses connections (a freed port might be taken by another test).
        let bound = try LoopbackSocket(listen: false)
        deployment.clientServers = "localhost:\(vanishing.port),localhost:\(bound.port)"
        let nobody = try await deployment.coffer(["list"], user: "uma")
        #expect(nobody.status == 69 && nobody.stderr.contains("refused the connection") && nobody.stderr.contains("closed the connection"), "\(nobody.stderr)")
        #expect(!nobody.stderr.contains("errno"), "\(nobody.stderr)")

        // A certificate that does not verify is still called what it is.
        deployment.clientServers = "localhost:\(vanishing.port),\(real)"
        let other = try await TestCertificates.make(in: deployment.directory + "/other-ca")
        let wrongCA = try await deployment.coffer(["list", "--ca", other.caCertificate], user: "uma")
        #expect(wrongCA.status == 69 && wrongCA.stderr.contains("does not verify against the CA certificate") && wrongCA.stderr.contains("check that --ca"),
                "\(wrongCA.stderr)")
    }

    @Test("a save whose process died after the record was committed is sent again to the next process and makes one record, not two")
    func saveIsMadeOnce() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        let dying = try await deployment.startAnotherTransaction(environment: ["COFFER_FAULT": "before-answer:/v1/save"])
        let real = deployment.serverURL.replacingOccurrences(of: "https://127.0.0.1", with: "localhost")
        deployment.clientServers = "\(dying),\(real)"
        try await deployment.registerAndLogin("vera")
        let file = deployment.directory + "/once.txt"
        try Data("saved exactly once".utf8).write(to: URL(fileURLWithPath: file))

        let saved = try await deployment.coffer(["save", file], user: "vera")
        #expect(saved.status == 0, "sent again to the next process: \(saved.stderr)")
        #expect(deployment.moreTransactions.first?.process.isRunning == false, "the first process died after committing")

        let listed = try await deployment.coffer(["list", "--json"], user: "vera")
        let records = try JSONDecoder().decode(Records.self, from: Data(listed.stdout.utf8)).records
        #expect(records.count == 1, "one record: \(records)")
        let history = try await deployment.coffer(["history", "--json"], user: "vera")
        let kinds = try JSONDecoder().decode(EndToEndTests.History.self, from: Data(history.stdout.utf8)).events.map(\.kind)
        #expect(kinds.filter { $0 == "save" }.count == 1, "\(kinds)")
        let opened = try await deployment.coffer(["retrieve", file + ".coffer", "-o", file + ".out"], user: "vera")
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(try String(contentsOfFile: file + ".out", encoding: .utf8) == "saved exactly once")
        let verified = try await deployment.coffer(["history", file + ".coffer", "--verify"], user: "vera")
        #expect(verified.status == 0, "the journal holds the save's real audit index: \(verified.stdout) \(verified.stderr)")
    }

    @Test("a lost answer to a change that is not safe to send again says it may have been applied and how to find out")
    func unsafeChangeIsNotSentAgain() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        let dying = try await deployment.startAnotherTransaction(environment: ["COFFER_FAULT": "before-answer:/v1/password"])
        let real = deployment.serverURL.replacingOccurrences(of: "https://127.0.0.1", with: "localhost")
        deployment.clientServers = "\(dying),\(real)"
        try await deployment.registerAndLogin("wes")
        let changed = try await deployment.coffer(["password", "--password-stdin"], user: "wes",
                                                  stdin: "correct horse battery staple\nanother long passphrase\n")
        #expect(changed.status == 69, "\(changed.stderr)")
        #expect(changed.stderr.contains("may or may not have been applied") && changed.stderr.contains("log in with the new password"), "\(changed.stderr)")
        #expect(!changed.stderr.contains("errno") && !changed.stderr.contains("descriptor"), "no library text: \(changed.stderr)")
        let login = try await deployment.coffer(["login", "--password-stdin"], user: "wes", stdin: "another long passphrase\n")
        #expect(login.status == 0, "it was applied once, not twice: \(login.stderr)")
    }
}
