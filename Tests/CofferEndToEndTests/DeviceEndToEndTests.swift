import CofferAPI
import CofferTesting
import Crypto
import Foundation
import Testing

/// The transaction tier with its keys in a real SoftHSM2 token (`--pkcs11-module`), made per test
/// in the deployment's folder: receipts, identity, checkpoints, the move of an existing
/// deployment's keys into a token, the start-up refusals, and a device that goes away and comes back.
@Suite(.serialized) struct DeviceEndToEndTests {
    @Test("with the keys in a token: receipts verify with openssl ts -verify, the identity and server key are the token's, TLS uses the token's key, re-sealed containers open, history --verify checks the checkpoints")
    func exchangeWithToken() async throws {
        let deployment = try await LocalDeployment.start(device: true)
        defer { deployment.terminate() }
        let keys = deployment.directory + "/keys/transaction"
        for file in ["signing.key.pem", "kek.b64", "checkpoint.key"] {
            #expect(!FileManager.default.fileExists(atPath: keys + "/" + file), "no key file \(file) is made with a token")
        }
        #expect(!FileManager.default.fileExists(atPath: deployment.directory + "/tls/server.key"), "TLS is served with the token's key: there is no key file")
        try await deployment.registerAndLogin("tess")
        let file = deployment.directory + "/deed.txt"
        try Data("the deed".utf8).write(to: URL(fileURLWithPath: file))
        let saved = try await deployment.coffer(["save", file], user: "tess")
        #expect(saved.status == 0, "\(saved.stderr)\n\(deployment.tierLogs)")

        let out = deployment.directory + "/receipt"
        #expect(try await deployment.coffer(["receipt", file + ".coffer", "--out", out], user: "tess").status == 0)
        let verified = try await TestCertificates.openssl(["ts", "-verify", "-data", out + "/receipt.dat", "-in", out + "/receipt.tst", "-token_in",
                                                           "-CAfile", deployment.caFile], in: deployment.directory)
        #expect(verified.contains("Verification: OK"))

        // The key the client pinned at registration (the identity challenge) is the token's signing key.
        let pinned = try String(contentsOfFile: keys + "/signing.public.pem", encoding: .utf8)
        let tokenKey = try P256.Signing.PublicKey(pemRepresentation: pinned)
        let known = try String(contentsOfFile: deployment.directory + "/client-tess/known_servers", encoding: .utf8)
        #expect(known.contains(ServerIdentity.fingerprint(of: tokenKey)), "the client pinned the token's key: \(known)")

        for round in 1...2 {
            let retrieved = try await deployment.coffer(["retrieve", file + ".coffer", "-o", deployment.directory + "/copy\(round).txt"], user: "tess")
            #expect(retrieved.status == 0, "\(retrieved.stderr)\n\(deployment.tierLogs)")
            #expect(try String(contentsOfFile: deployment.directory + "/copy\(round).txt", encoding: .utf8) == "the deed")
        }
        let history = try await deployment.coffer(["history", file + ".coffer", "--verify"], user: "tess")
        #expect(history.status == 0, "\(history.stderr)")
        #expect(history.stdout.contains("reseal"))
    }

    @Test("an existing deployment's keys move into a token: old containers and sessions still work, the key files can go, and no tier key is in the transaction tier's memory")
    func importedKeysAndMemory() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("ida")
        let file = deployment.directory + "/ledger.txt"
        try Data("the ledger".utf8).write(to: URL(fileURLWithPath: file))
        #expect(try await deployment.coffer(["save", file], user: "ida").status == 0)
        let noDevice = try await deployment.transactionRefusal(["--tls-key", "token"])
        #expect(noDevice.status != 0 && noDevice.stderr.contains("tls-key token needs pkcs11-module"), "\(noDevice.stderr)")

        let keys = deployment.directory + "/keys/transaction"
        let kek = try #require(Data(base64Encoded: try String(contentsOfFile: keys + "/kek.b64", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let signing = try P256.Signing.PrivateKey(pemRepresentation: try String(contentsOfFile: keys + "/signing.key.pem", encoding: .utf8))
        let checkpointSeed = try #require(Data(base64Encoded: try String(contentsOfFile: keys + "/checkpoint.key", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        let sessionKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: kek), info: Array("coffer session v3".utf8), outputByteCount: 32)
            .withUnsafeBytes { Array($0) }

        let token = try await SoftHSMToken.make(in: deployment.directory + "/softhsm")
        let imported = try await deployment.importKeys(into: token)
        #expect(imported.status == 0, "\(imported.stderr)")
        for label in ["coffer-kek", "coffer-session", "coffer-signing", "coffer-checkpoint"] {
            #expect(imported.stdout.contains("imported \(label)"), "\(imported.stdout)")
        }
        #expect(imported.stdout.contains("made coffer-wrap"))
        let backup = deployment.directory + "/offline-backup"
        try FileManager.default.createDirectory(atPath: backup, withIntermediateDirectories: true)
        for name in ["signing.key.pem", "kek.b64", "checkpoint.key"] {
            try FileManager.default.moveItem(atPath: keys + "/" + name, toPath: backup + "/" + name)
        }
        try await deployment.restartTransaction()

        // The session of before the move still holds; the container of before opens and is re-sealed by the token.
        for round in 1...2 {
            let retrieved = try await deployment.coffer(["retrieve", file + ".coffer", "-o", deployment.directory + "/copy\(round).txt"], user: "ida")
            #expect(retrieved.status == 0, "\(retrieved.stderr)\n\(deployment.tierLogs)")
        }
        let history = try await deployment.coffer(["history", file + ".coffer", "--verify"], user: "ida")
        #expect(history.status == 0, "checkpoints signed before and after the move verify: \(history.stderr)")

        let pid = try #require(deployment.transaction?.pid)
        let memory = try SecrecyAtRestTests().readableMemory(of: pid)
        #expect(SecrecyAtRestTests.contains(memory, Array("ida".utf8)), "the scan does find what the tier holds")
        let secrets: [(String, [UInt8])] = [
            ("the KEK", Array(kek)), ("the session-token key", sessionKey),
            ("the signing key", Array(signing.rawRepresentation)), ("the checkpoint key", Array(checkpointSeed)),
        ]
        for (name, bytes) in secrets where SecrecyAtRestTests.contains(memory, bytes) {
            Issue.record("\(name) is in the transaction tier's memory")
        }
    }

    @Test("a wrong PIN, a missing token, a missing module, a token without Coffer's keys, a PIN file others can read, a missing PIN file and a TLS certificate for another key each stop the tier at start with one line naming it")
    func startRefusals() async throws {
        let deployment = try await LocalDeployment.start(device: true)
        defer { deployment.terminate() }
        let token = try #require(deployment.device)
        let wrongPin = deployment.directory + "/wrong.pin", openPin = deployment.directory + "/open.pin"
        try SoftHSMToken.writePIN("999999", to: wrongPin)
        try SoftHSMToken.writePIN("0112358", to: openPin, mode: 0o644)
        let empty = try await SoftHSMToken.make(in: deployment.directory + "/softhsm-empty", label: "empty")
        let cases: [(String, [String], [String: String], String)] = [
            ("a wrong PIN", ["--token-pin-file", wrongPin], [:], "CKR_PIN_INCORRECT"),
            ("a missing token", ["--token-label", "no-such-token"], [:], "no token labelled \"no-such-token\""),
            ("a missing module", ["--pkcs11-module", "/nonexistent/libpkcs11.so", "--token-label", token.label, "--token-pin-file", token.pinFile], [:],
             "/nonexistent/libpkcs11.so does not exist"),
            ("a token without the keys", ["--token-label", "empty", "--token-pin-file", empty.pinFile], empty.environment, "has no secret key labelled \"coffer-kek\""),
            ("a PIN file others can read", ["--token-pin-file", openPin], [:], "can be read by others"),
            ("a PIN file that does not exist", ["--token-pin-file", deployment.directory + "/no.pin"], [:], "does not exist"),
            ("a TLS certificate for another key", ["--tls-cert", deployment.directory + "/tls/tsa.crt"], [:], "not for the token's coffer-tls key"),
        ]
        for (name, overrides, environment, expected) in cases {
            let refused = try await deployment.transactionRefusal(overrides, environment: environment)
            #expect(refused.status != 0, "\(name): the tier must not start")
            // The log's JSON record, and one line for the operator.
            let lines = refused.stderr.split(separator: "\n").filter { !$0.isEmpty && !$0.hasPrefix("{") }
            #expect(lines.count == 1 && lines[0].hasPrefix("coffer-transaction: ") && lines[0].contains(expected), "\(name): \(refused.stderr)")
        }
    }

    @Test("coffer-admin init with a token keeps the keys it has on a second run, and refuses a wrong PIN, --import without key files and --pkcs11-module without a PIN file")
    func adminInit() async throws {
        let deployment = try await LocalDeployment.start(device: true)
        defer { deployment.terminate() }
        let token = try #require(deployment.device)
        let keys = deployment.directory + "/keys"
        let again = try await deployment.admin(["init", keys] + token.adminArguments)
        #expect(again.status == 0, "\(again.stderr)")
        for label in ["coffer-kek", "coffer-wrap", "coffer-session", "coffer-signing", "coffer-checkpoint"] {
            #expect(again.stdout.contains("kept \(label)"), "\(again.stdout)")
        }
        let wrongPin = deployment.directory + "/wrong.pin"
        try SoftHSMToken.writePIN("999999", to: wrongPin)
        let refusals: [([String], String)] = [
            (["init", keys, "--pkcs11-module", SoftHSMToken.module, "--token-label", token.label, "--token-pin-file", wrongPin], "CKR_PIN_INCORRECT"),
            (["init", keys, "--import"] + token.adminArguments, "signing.key.pem"),
            (["init", keys, "--pkcs11-module", SoftHSMToken.module], "--pkcs11-module needs --token-pin-file"),
        ]
        for (arguments, expected) in refusals {
            let refused = try await deployment.admin(arguments)
            #expect(refused.status != 0 && refused.stderr.contains(expected), "\(arguments): \(refused.stderr)")
        }
    }

    @Test("while the device is gone a save and a retrieval get 503 with nothing stored or released; when it is back the tier works without a restart")
    func deviceGoesAwayAndComesBack() async throws {
        // The TLS key stays a file here: with it in the token, a device that is gone fails the TLS
        // handshake itself (the client cannot reach the service), before any request.
        let deployment = try await LocalDeployment.start(device: true, tlsKeyInToken: false)
        defer { deployment.terminate() }
        let token = try #require(deployment.device)
        try await deployment.registerAndLogin("gus")
        let kept = deployment.directory + "/kept.txt"
        try Data("kept".utf8).write(to: URL(fileURLWithPath: kept))
        #expect(try await deployment.coffer(["save", kept], user: "gus").status == 0)

        let away = token.tokenStore + ".away"
        try FileManager.default.moveItem(atPath: token.tokenStore, toPath: away)
        let lost = deployment.directory + "/lost.txt"
        try Data("lost".utf8).write(to: URL(fileURLWithPath: lost))
        let save = try await deployment.coffer(["save", lost], user: "gus")
        #expect(save.status == 69, "\(save.stderr)\n\(deployment.tierLogs)")
        #expect(save.stderr.contains("cryptographic device"), "\(save.stderr)")
        #expect(!FileManager.default.fileExists(atPath: lost + ".coffer"))
        let retrieve = try await deployment.coffer(["retrieve", kept + ".coffer", "-o", deployment.directory + "/out.txt"], user: "gus")
        #expect(retrieve.status == 69, "\(retrieve.stderr)")
        #expect(!FileManager.default.fileExists(atPath: deployment.directory + "/out.txt"))

        try FileManager.default.moveItem(atPath: away, toPath: token.tokenStore)
        let again = try await deployment.coffer(["save", lost], user: "gus")
        #expect(again.status == 0, "the tier uses the device again without a restart: \(again.stderr)\n\(deployment.tierLogs)")
        let list = try await deployment.coffer(["list", "--json"], user: "gus")
        #expect(list.stdout.components(separatedBy: "\"fileName\"").count - 1 == 2, "one record per successful save: \(list.stdout)")
        let retrieved = try await deployment.coffer(["retrieve", kept + ".coffer", "-o", deployment.directory + "/out.txt"], user: "gus")
        #expect(retrieved.status == 0, "\(retrieved.stderr)")
        let history = try await deployment.coffer(["history", "--json"], user: "gus")
        let events = try JSONDecoder().decode(EndToEndTests.History.self, from: Data(history.stdout.utf8)).events
        #expect(events.filter { $0.kind == "retrieve" }.count == 1, "the retrieval while the device was gone released nothing: \(history.stdout)")
    }
}
