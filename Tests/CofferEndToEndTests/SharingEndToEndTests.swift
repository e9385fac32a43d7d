import CofferTesting
import Foundation
import Testing

/// Sharing through every tier: the owner grants, the grantee retrieves with the `coffer` binary over
/// real TLS, the database tier checks the grant at each request, and a revocation holds at once.
@Suite(.serialized) struct SharingEndToEndTests {
    typealias Store = EndToEndTests.Store

    struct History: Decodable {
        struct Event: Decodable { let kind: String; let user: String; let detail: String; let fileName: String? }
        let events: [Event]
    }

    struct Grants: Decodable {
        struct Grant: Decodable {
            struct Central: Decodable { let generation: Int64 }
            let recordID: String
            let owner: String
            let grantee: String
            let fileName: String
            let expires: Int64?
            let central: Central?
        }
        let grants: [Grant]
    }

    func history(_ deployment: LocalDeployment, _ user: String) async throws -> [History.Event] {
        let listed = try await deployment.coffer(["history", "--json"], user: user)
        guard listed.status == 0 else { throw TestError("history failed: \(listed.stderr)") }
        return try JSONDecoder().decode(History.self, from: Data(listed.stdout.utf8)).events
    }

    func grants(_ deployment: LocalDeployment, _ user: String) async throws -> [Grants.Grant] {
        let listed = try await deployment.coffer(["shared", "--json"], user: user)
        guard listed.status == 0 else { throw TestError("shared failed: \(listed.stderr)") }
        return try JSONDecoder().decode(Grants.self, from: Data(listed.stdout.utf8)).grants
    }

    func folder(_ deployment: LocalDeployment, _ name: String) throws -> String {
        let path = deployment.directory + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("a shared central copy: the colleague retrieves it, both keep access, the owner sees and verifies it; a revocation refuses the open session at once", arguments: EndToEndTests.stores)
    func shareRetrieveRevoke(store: Store) async throws {
        let deployment = try await EndToEndTests.deploy(store)
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("alice")
        try await deployment.registerAndLogin("bob")
        let alices = try folder(deployment, "alice")
        let bobs = try folder(deployment, "bob")
        let original = Data((0..<300_000).map { _ in UInt8.random(in: 0...255) })
        try original.write(to: URL(fileURLWithPath: alices + "/plan.bin"))
        let saved = try await deployment.coffer(["save", "--central", alices + "/plan.bin"], user: "alice")
        #expect(saved.status == 0, "\(saved.stderr)\n\(deployment.tierLogs)")

        #expect(try await deployment.coffer(["retrieve", "--central", "plan.bin", "-o", bobs + "/plan.bin"], user: "bob").status != 0,
                "nothing is shared yet")
        let shared = try await deployment.coffer(["share", "plan.bin", "--with", "bob"], user: "alice")
        #expect(shared.status == 0 && shared.stdout.contains("with bob until you revoke it"), "\(shared.stdout)\(shared.stderr)")
        let listed = try await grants(deployment, "bob")
        #expect(listed.count == 1 && listed[0].owner == "alice" && listed[0].grantee == "bob" && listed[0].fileName == "plan.bin" && listed[0].expires == nil)
        let text = try await deployment.coffer(["shared"], user: "bob")
        #expect(text.stdout.contains("from alice") && text.stdout.contains("plan.bin"), "\(text.stdout)")

        // The colleague retrieves it by name, and the central copy is re-sealed for its owner.
        let retrieved = try await deployment.coffer(["retrieve", "--central", "plan.bin", "-o", bobs + "/plan.bin"], user: "bob")
        #expect(retrieved.status == 0, "\(retrieved.stderr)\n\(deployment.tierLogs)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: bobs + "/plan.bin")) == original)
        #expect(retrieved.stdout.contains("generation 2"), "\(retrieved.stdout)")
        // Both keep access: the owner retrieves the replaced copy.
        let again = try await deployment.coffer(["retrieve", "--central", "plan.bin", "-o", alices + "/again.bin"], user: "alice")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: alices + "/again.bin")) == original)

        // The owner's history shows the grantee's accesses under the grantee's name; the grantee's
        // holds only their own entries.
        let ownerHistory = try await history(deployment, "alice")
        #expect(ownerHistory.contains { $0.kind == "share" && $0.user == "alice" && $0.detail == "shared with bob until revoked" })
        #expect(ownerHistory.contains { $0.kind == "retrieve" && $0.user == "bob" && $0.detail == "under alice's grant" })
        #expect(ownerHistory.contains { $0.kind == "central_replace" && $0.user == "bob" })
        let ownerText = try await deployment.coffer(["history"], user: "alice")
        #expect(ownerText.stdout.contains("by bob"), "\(ownerText.stdout)")
        let granteeHistory = try await history(deployment, "bob")
        #expect(granteeHistory.allSatisfy { $0.user == "bob" })
        #expect(granteeHistory.contains { $0.kind == "retrieve" && $0.fileName == "plan.bin" })
        let verified = try await deployment.coffer(["history", "--verify", alices + "/plan.bin.coffer"], user: "alice")
        #expect(verified.status == 0 && verified.stdout.contains("verified:"), "the grantee's entries verify in the owner's history: \(verified.stdout)\(verified.stderr)")

        // Revoked: refused at once, in the session the grantee already holds.
        let revoked = try await deployment.coffer(["unshare", "plan.bin", "--with", "bob"], user: "alice")
        #expect(revoked.status == 0 && revoked.stdout.contains("revoked bob's grant"), "\(revoked.stdout)\(revoked.stderr)")
        let refused = try await deployment.coffer(["retrieve", "--central", listed[0].recordID, "-o", bobs + "/late.bin"], user: "bob")
        #expect(refused.status == 77, "\(refused.stderr)")
        #expect(refused.stderr.contains("the grant that shared this record with you ended: alice revoked it"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: bobs + "/late.bin"))
        #expect(try await grants(deployment, "bob").isEmpty)
        let after = try await history(deployment, "alice")
        #expect(after.contains { $0.kind == "unshare" && $0.detail == "the grant to bob was revoked" })
        #expect(after.contains { $0.kind == "central_refused" && $0.user == "bob" }, "the refused attempt is in the owner's history too")
    }

    @Test("a grant to an unknown user, a share by a non-owner and a retrieve under an expired grant each get one clear error and an audit entry; a shared local container opens for the grantee")
    func refusalsAndExpiry() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("alice")
        try await deployment.registerAndLogin("bob")
        let alices = try folder(deployment, "alice")
        let bobs = try folder(deployment, "bob")
        try Data("quarterly numbers".utf8).write(to: URL(fileURLWithPath: alices + "/q4.txt"))
        #expect(try await deployment.coffer(["save", alices + "/q4.txt"], user: "alice").status == 0)
        let container = alices + "/q4.txt.coffer"

        let unknown = try await deployment.coffer(["share", container, "--with", "nobody"], user: "alice")
        #expect(unknown.status == 64 && unknown.stderr.contains("no registered user is named nobody"), "\(unknown.stderr)")
        let badTime = try await deployment.coffer(["share", container, "--with", "bob", "--until", "next week"], user: "alice")
        #expect(badTime.status == 64 && badTime.stderr.contains("--until takes a time"), "\(badTime.stderr)")
        let toSelf = try await deployment.coffer(["share", container, "--with", "alice"], user: "alice")
        #expect(toSelf.status == 64 && toSelf.stderr.contains("cannot be shared with its owner"), "\(toSelf.stderr)")
        let recordID = try #require(try await grantsOrRecords(deployment))
        let byOther = try await deployment.coffer(["share", recordID, "--with", "alice"], user: "bob")
        #expect(byOther.status == 77 && byOther.stderr.contains("belongs to you"), "\(byOther.status) \(byOther.stderr)")
        let otherContainer = try await deployment.coffer(["share", container, "--with", "alice"], user: "bob")
        #expect(otherContainer.status == 64 && otherContainer.stderr.contains("only its owner may share it"), "\(otherContainer.stderr)")

        // A grant that ends in three seconds: the grantee opens a copy of the container meanwhile.
        let shared = try await deployment.coffer(["share", container, "--with", "bob", "--until", "3s"], user: "alice")
        #expect(shared.status == 0 && shared.stdout.contains("until 20"), "\(shared.stdout)\(shared.stderr)")
        try FileManager.default.copyItem(atPath: container, toPath: bobs + "/q4.txt.coffer")
        let opened = try await deployment.coffer(["retrieve", bobs + "/q4.txt.coffer"], user: "bob")
        #expect(opened.status == 0, "\(opened.stderr)\n\(deployment.tierLogs)")
        #expect(try String(contentsOfFile: bobs + "/q4.txt", encoding: .utf8) == "quarterly numbers")
        #expect(opened.stdout.contains("re-sealed"), "the grantee's copy is re-sealed, for the owner: \(opened.stdout)")
        let stale = try await deployment.coffer(["retrieve", container, "-o", alices + "/stale.txt"], user: "alice")
        #expect(stale.status == 77 && stale.stderr.contains("old copy"), "the owner's older copy is refused after the grantee's re-seal: \(stale.stderr)")

        try await Task.sleep(for: .seconds(3.5))
        try FileManager.default.removeItem(atPath: bobs + "/q4.txt")
        let expired = try await deployment.coffer(["retrieve", bobs + "/q4.txt.coffer"], user: "bob")
        #expect(expired.status == 77 && expired.stderr.contains("expired at"), "\(expired.stderr)")
        // The owner opens the grantee's re-sealed copy: the record stayed theirs.
        let back = try await deployment.coffer(["retrieve", bobs + "/q4.txt.coffer", "-o", alices + "/back.txt"], user: "alice")
        #expect(back.status == 0, "\(back.stderr)")

        let owner = try await history(deployment, "alice")
        let refusedShares = owner.filter { $0.kind == "share_refused" }
        #expect(refusedShares.contains { $0.user == "alice" && $0.detail.contains("share with nobody") }, "the unknown grantee: \(owner.map(\.kind))")
        #expect(refusedShares.contains { $0.user == "bob" }, "the non-owner's attempt on a record alice shared is in her history too")
        let grantee = try await history(deployment, "bob")
        #expect(grantee.contains { $0.kind == "share_refused" && $0.fileName == nil }, "the non-owner's attempt, naming no file")
        #expect(grantee.contains { $0.kind == "retrieve_refused" && $0.detail.contains("expired at") })
    }

    /// Alice's only record's id, from her list.
    private func grantsOrRecords(_ deployment: LocalDeployment) async throws -> String? {
        struct Records: Decodable { struct Record: Decodable { let recordID: String }; let records: [Record] }
        let listed = try await deployment.coffer(["list", "--json"], user: "alice")
        return try JSONDecoder().decode(Records.self, from: Data(listed.stdout.utf8)).records.first?.recordID
    }
}
