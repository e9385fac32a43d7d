import CofferTesting
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Keys replaced while the tiers serve: the TLS certificate and key on SIGHUP to the transaction
/// tier, the CURVE allow list on SIGHUP to the database tier.
@Suite(.serialized) struct ReloadTests {
    /// The serial number of the certificate the server at `port` presents now.
    static func servedSerial(port: String, deployment: LocalDeployment) async throws -> String {
        let process = try TestProcess("/bin/sh", ["-c", "/usr/bin/openssl s_client -connect 127.0.0.1:\(port) -CAfile '\(deployment.caFile)' </dev/null 2>/dev/null | /usr/bin/openssl x509 -noout -serial"],
                                      environment: ["PATH": "/usr/bin:/bin"], logDirectory: deployment.directory)
        _ = try await process.wait(timeout: .seconds(30))
        return process.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("SIGHUP makes the transaction tier serve a new TLS certificate to new connections without a restart; a broken one leaves the one in force")
    func tlsReload() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("yara")
        let port = String(deployment.serverURL.split(separator: ":").last ?? "")
        let tls = deployment.directory + "/tls"
        let before = try await Self.servedSerial(port: port, deployment: deployment)
        #expect(before.hasPrefix("serial="), "\(before)")

        // A new certificate from the same CA, written over the files the tier reads.
        try await TestCertificates.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
                                            "-keyout", tls + "/next.key", "-out", tls + "/next.csr"], in: tls)
        try await TestCertificates.openssl(["x509", "-req", "-in", tls + "/next.csr", "-CA", tls + "/ca.crt", "-CAkey", tls + "/ca.key", "-set_serial", "4242",
                                            "-days", "2", "-extfile", tls + "/server.ext", "-out", tls + "/next.crt"], in: tls)
        for name in ["crt", "key"] {
            #expect(rename(tls + "/next." + name, tls + "/server." + name) == 0)
        }
        deployment.transaction?.signal(SIGHUP)
        var after = before
        for _ in 0..<40 where after == before {
            try await Task.sleep(for: .milliseconds(100))
            after = try await Self.servedSerial(port: port, deployment: deployment)
        }
        #expect(after == "serial=1092", "the new certificate (serial 4242) is served: \(after)")
        #expect(deployment.transaction?.isRunning == true)
        #expect(try await deployment.coffer(["list"], user: "yara").status == 0, "clients go on, their session too")

        try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: tls + "/server.crt"))
        deployment.transaction?.signal(SIGHUP)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await Self.servedSerial(port: port, deployment: deployment) == "serial=1092", "a broken file changes nothing")
        #expect(deployment.tierLogs.contains("cannot reload the TLS certificate and key"))
        #expect(try await deployment.coffer(["list"], user: "yara").status == 0)
    }

    @Test("SIGHUP makes the database tier read its allow list again: a key removed is refused from the next handshake, a key added is admitted, the tier link goes on")
    func allowListReload() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("zoe")
        let list = deployment.directory + "/keys/database/allow.list"
        let original = try String(contentsOfFile: list, encoding: .utf8)
        #expect(try await deployment.admin(["users", "list"]).status == 0)

        // Drop the operator's key (the second key of the list), keep the transaction tier's.
        let lines = original.split(separator: "\n", omittingEmptySubsequences: false)
        let keys = lines.filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(keys.count == 2)
        try Data(lines.filter { $0 != keys[1] }.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: list))
        deployment.database?.signal(SIGHUP)
        try await Task.sleep(for: .milliseconds(500))
        let refused = try await deployment.admin(["users", "list", "--timeout", "2"])
        #expect(refused.status != 0, "the operator's key is no longer admitted: \(refused.stdout)")
        #expect(try await deployment.coffer(["list"], user: "zoe").status == 0, "the transaction tier's link goes on")

        try Data(original.utf8).write(to: URL(fileURLWithPath: list))
        deployment.database?.signal(SIGHUP)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await deployment.admin(["users", "list"]).status == 0, "admitted again")
        #expect(deployment.tierLogs.contains("reloaded the allow list"))
    }

    @Test("the database tier's CURVE key is rotated with saves and retrieves running: a process with the new key on its own endpoint, the transaction processes restarted in turn to know it, the old process stopped; no request fails")
    func databaseKeyRotation() async throws {
        let (deployment, work) = try await LocalDeployment.forRotation(user: "ines")
        defer { deployment.terminate() }

        let load = SaveRetrieveLoad(deployment, user: "ines", work: work)

        // The new key: a database process with it on an endpoint of its own, the same store.
        let fresh = deployment.directory + "/fresh-keys"
        #expect(try await deployment.admin(["init", fresh]).status == 0)
        let newEndpoint = try await deployment.startAnotherDatabase(curveSecret: fresh + "/database/curve.secret")
        let newKey = try String(contentsOfFile: fresh + "/transaction/database-curve.public", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let pinned = deployment.directory + "/keys/transaction/database-curve.public"
        let oldKey = try String(contentsOfFile: pinned, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try Data("\(oldKey)\n\(newEndpoint) \(newKey)\n".utf8).write(to: URL(fileURLWithPath: pinned))
        for index in 0..<2 { try await deployment.restartTransactionProcess(index, graceful: true) }
        // The old process goes; the link goes on through the new key.
        await deployment.databases[0].stop()
        try await Task.sleep(for: .seconds(2))
        let (failures, operations) = try await load.stop()
        #expect(operations > 0)
        #expect(failures.isEmpty, "\(failures.count) failed: \(failures.prefix(3))")
        let file = work + "/after.txt"
        try Data("after".utf8).write(to: URL(fileURLWithPath: file))
        #expect(try await deployment.coffer(["save", file], user: "ines").status == 0, "served by the process with the new key alone")
    }
}
