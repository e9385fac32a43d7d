import CofferAudit
import CofferClient
import CofferStorage
import CofferTesting
import Foundation
import Testing

/// The tamper-evident audit history end to end: clients verify their entries, operators export the
/// log, and an independent checker (Go's sumdb/note and sumdb/tlog) verifies the export.
@Suite(.serialized) struct AuditEndToEndTests {
    typealias Store = EndToEndTests.Store

    struct Report: Decodable {
        struct Event: Decodable { let index: Int64; let kind: String }
        let events: [Event]
        let treeSize: Int64
        let previousTreeSize: Int64?
        let journalEntries: Int
    }

    /// alice saves and retrieves a file, then verifies its history once (so her client keeps a checkpoint).
    func prepare(_ deployment: LocalDeployment) async throws -> String {
        try await deployment.registerAndLogin("alice")
        try await deployment.registerAndLogin("bob")
        let file = deployment.directory + "/minutes.txt"
        try Data("board minutes".utf8).write(to: URL(fileURLWithPath: file))
        let saved = try await deployment.coffer(["save", file], user: "alice")
        #expect(saved.status == 0, "\(saved.stderr)")
        let retrieved = try await deployment.coffer(["retrieve", file + ".coffer", "-o", file + ".copy"], user: "alice")
        #expect(retrieved.status == 0, "\(retrieved.stderr)")
        let verified = try await deployment.coffer(["history", file + ".coffer", "--verify", "--json"], user: "alice")
        #expect(verified.status == 0, "\(verified.stderr)\n\(deployment.tierLogs)")
        return file + ".coffer"
    }

    @Test("history --verify proves a file's entries; an export verifies with coffer-admin and with Go's sumdb packages", arguments: EndToEndTests.stores)
    func verifiedHistoryAndExport(store: Store) async throws {
        let deployment = try await EndToEndTests.deploy(store)
        defer { deployment.terminate() }
        let container = try await prepare(deployment)

        let again = try await deployment.coffer(["history", container, "--verify", "--json"], user: "alice")
        #expect(again.status == 0, "\(again.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(again.stdout.utf8))
        #expect(Set(report.events.map(\.kind)).isSuperset(of: ["save", "retrieve", "reseal", "key_destroyed"]))
        #expect(report.previousTreeSize != nil, "the second run checks consistency with the first run's checkpoint")
        #expect(report.journalEntries == 2, "the save and the retrieve this client saw acknowledged")
        let text = try await deployment.coffer(["history", container, "--verify"], user: "alice")
        #expect(text.stdout.contains("verified: "), "\(text.stdout)")

        let export = deployment.directory + "/export"
        let exported = try await deployment.admin(["audit", "export", export])
        #expect(exported.status == 0, "\(exported.stderr)")
        let vkey = deployment.directory + "/keys/transaction/checkpoint.vkey"
        let verified = try await deployment.admin(["audit", "verify", export, "--key", vkey])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        let entries = try String(contentsOfFile: export + "/entries.jsonl", encoding: .utf8)
        #expect(entries.contains("\"detail\":\"audit export\""), "the export is itself audited")

        let independent = try await GoAuditChecker.run(export: export, verifierKey: vkey)
        #expect(independent.status == 0, "\(independent.output)")
        #expect(independent.output.hasPrefix("ok: "))

        let refused = try await deployment.admin(["audit", "export", export])
        #expect(refused.status == 69, "an export never writes into a folder that holds one")
        let missing = try await deployment.admin(["audit", "verify", deployment.directory + "/no-such-export", "--key", vkey])
        #expect(missing.status == 66, "\(missing.stderr)")

        // A client that pinned one checkpoint key refuses another, as it refuses a changed identity key.
        let pinned = try #require(try FileManager.default.contentsOfDirectory(atPath: deployment.directory + "/client-alice/audit").first { $0.hasSuffix(".vkey") })
        try Data("coffer/audit+00000000+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n".utf8)
            .write(to: URL(fileURLWithPath: deployment.directory + "/client-alice/audit/" + pinned))
        let changed = try await deployment.coffer(["history", container, "--verify"], user: "alice")
        #expect(changed.status == 77, "\(changed.stderr)")
        #expect(changed.stderr.contains("THE AUDIT CHECKPOINT KEY HAS CHANGED"))
    }

    enum Tamper: String, CaseIterable, Sendable { case edit, delete, reorder, truncateAndReappend }

    static var cases: [(Store, Tamper)] { EndToEndTests.stores.flatMap { store in Tamper.allCases.map { (store, $0) } } }

    @Test("a rewritten history is caught by audit verify, by the running transaction tier, and by a client that holds an older checkpoint", arguments: cases)
    func tampering(store: Store, tamper: Tamper) async throws {
        let deployment = try await EndToEndTests.deploy(store)
        defer { deployment.terminate() }
        let container = try await prepare(deployment)
        let clientCheckpoint = deployment.directory + "/client-alice/audit"
        let kept = try #require(try FileManager.default.contentsOfDirectory(atPath: clientCheckpoint).first { $0.hasSuffix(".checkpoint") })
        let vkey = deployment.directory + "/keys/transaction/checkpoint.vkey"

        // A database administrator rewrites the rows and rebuilds the tree so that it is self-consistent.
        try AuditTampering.rewrite(store: deployment.store, tamper: tamper, dropCheckpoints: false)
        let export = deployment.directory + "/export"
        #expect(try await deployment.admin(["audit", "export", export]).status == 0)
        let verified = try await deployment.admin(["audit", "verify", export, "--key", vkey])
        #expect(verified.status == 65, "\(tamper): \(verified.stdout)")
        #expect(verified.stdout.contains("THE AUDIT HISTORY DOES NOT VERIFY"))
        #expect(try await GoAuditChecker.run(export: export, verifierKey: vkey).status == 1, "the independent checker agrees")

        // The running transaction tier refuses to sign the rewritten log and reports it.
        let health = try await deployment.coffer(["history", container, "--verify"], user: "alice")
        #expect(health.status != 0, "\(tamper): \(health.stdout)")
        let healthLog = deployment.transaction?.standardError ?? ""
        #expect(healthLog.contains("audit log inconsistency"), "\(tamper)")

        // The administrator also drops the stored checkpoints, and a fresh transaction process signs the
        // rewritten log: the client's own older checkpoint still catches it, and so does an auditor who kept it.
        try AuditTampering.dropCheckpoints(store: deployment.store)
        try await deployment.restartTransaction(checkpointState: deployment.directory + "/fresh.state")
        let caught = try await deployment.coffer(["history", container, "--verify"], user: "alice")
        #expect(caught.status == 65, "\(tamper): \(caught.stdout)\(caught.stderr)")
        #expect(caught.stderr.contains("THE AUDIT HISTORY WAS REWRITTEN"), "\(tamper): \(caught.stderr)")
        let export2 = deployment.directory + "/export2"
        #expect(try await deployment.admin(["audit", "export", export2]).status == 0)
        let withKnown = try await deployment.admin(["audit", "verify", export2, "--key", vkey, "--known", clientCheckpoint + "/" + kept])
        #expect(withKnown.status == 65, "\(tamper): \(withKnown.stdout)")
    }
}
