import CofferAPI
import CofferTransaction
import CofferWire
import Foundation
import HTTPTypes
import Synchronization
import CofferTesting
import Testing

/// The sharing routes in process, over a scripted database tier: a grant names the caller as owner,
/// each refusal becomes its answer, and a list from the other tier that is not the caller's is refused.
@Suite struct SharingRouteTests {
    let record = RecordID.random()
    var recordText: String { RecordID.text(record)! }

    func send(_ bed: RouteTestbed, _ method: HTTPRequest.Method, _ path: String, _ body: [UInt8] = []) async throws -> RouteAnswer {
        try await bed.test { client in
            try await client.send(method, path, headers: try bed.signedHeaders(method, path, body: body, token: bed.token(), signer: bed.device), body: body)
        }
    }

    func ack(_ index: Int64) -> WireResponse.OneOf_Body {
        var ack = Coffer_Wire_V1_Ack()
        ack.auditIndex = index
        return .ack(ack)
    }

    @Test("a share names the caller as owner with the grantee and end, and answers the audit entry; an unshare likewise")
    func shareAndUnshare() async throws {
        let bed = try await RouteTestbed.make()
        let shared = Mutex<Coffer_Wire_V1_ShareRecord?>(nil)
        bed.database.answer("ShareRecord") { body in
            guard case .shareRecord(let m) = body else { throw TestError("not a share") }
            shared.withLock { $0 = m }
            return ack(12)
        }
        let answer = try await send(bed, .post, "/v1/records/\(recordText)/grants", RouteRefusalTests.json(ShareRequest(grantee: "bob", expires: 9_000_000_000_000)))
        #expect(answer.status == 200, "\(answer.body)")
        let sent = try #require(shared.withLock { $0 })
        #expect(sent.owner == "alice" && sent.grantee == "bob" && sent.expiresUnixMs == 9_000_000_000_000 && Array(sent.recordID) == record)
        let done = try JSONDecoder().decode(GrantChangeResponse.self, from: Data(answer.body.utf8))
        #expect(done.auditIndex == 12 && done.grantee == "bob" && done.recordID == recordText)

        let revoked = Mutex<Coffer_Wire_V1_UnshareRecord?>(nil)
        bed.database.answer("UnshareRecord") { body in
            guard case .unshareRecord(let m) = body else { throw TestError("not an unshare") }
            revoked.withLock { $0 = m }
            return ack(13)
        }
        let unshared = try await send(bed, .delete, "/v1/records/\(recordText)/grants/bob")
        #expect(unshared.status == 200, "\(unshared.body)")
        #expect(revoked.withLock { $0?.owner == "alice" && $0?.grantee == "bob" })
    }

    @Test("refusals of shares become their answers: another's record 404, an unknown grantee 400, a deleted record 403, a bad name or end 400 before the database tier is asked")
    func refusals() async throws {
        let bed = try await RouteTestbed.make()
        let path = "/v1/records/\(recordText)/grants"
        let share = RouteRefusalTests.json(ShareRequest(grantee: "bob"))
        bed.database.refuse("ShareRecord", .notFound, "no record with this id belongs to the requester")
        let theirs = try await send(bed, .post, path, share)
        #expect(theirs.status == 404 && theirs.body.contains("belongs to you"), "\(theirs.body)")
        bed.database.refuse("ShareRecord", .badRequest, "no registered user has that name")
        let unknown = try await send(bed, .post, path, share)
        #expect(unknown.status == 400 && unknown.body.contains("no registered user"), "\(unknown.body)")
        bed.database.refuse("ShareRecord", .forbidden, "the decode key was destroyed (the record was deleted)")
        #expect(try await send(bed, .post, path, share).status == 403)
        bed.database.refuse("UnshareRecord", .notFound, "the record is not shared with bob now")
        let notShared = try await send(bed, .delete, path + "/bob")
        #expect(notShared.status == 404 && notShared.body.contains("not shared with bob now"), "\(notShared.body)")

        let asked = bed.database.calls.count
        #expect(try await send(bed, .post, path, RouteRefusalTests.json(ShareRequest(grantee: "Bob Smith"))).status == 400)
        #expect(try await send(bed, .post, path, RouteRefusalTests.json(ShareRequest(grantee: "bob", expires: -5))).status == 400)
        #expect(try await send(bed, .delete, path + "/Bob%20Smith").status == 400)
        #expect(try await send(bed, .post, "/v1/records/not-a-uuid/grants", share).status == 400)
        #expect(bed.database.calls.count == asked, "nothing malformed reaches the database tier")
    }

    @Test("the list of grants is the caller's: one that the database tier says is neither made by nor to the caller, or malformed, is refused")
    func hostileList() async throws {
        let bed = try await RouteTestbed.make()
        @Sendable func grant(owner: String, grantee: String, sha: Int = 32) -> Coffer_Wire_V1_Grant {
            var g = Coffer_Wire_V1_Grant()
            g.recordID = Data(record)
            g.owner = owner
            g.grantee = grantee
            g.fileName = "plan.txt"
            g.sha256 = Data(repeating: 1, count: sha)
            g.size = 5
            g.grantedUnixMs = 1
            return g
        }
        @Sendable func list(_ grants: [Coffer_Wire_V1_Grant]) -> WireResponse.OneOf_Body {
            var answer = Coffer_Wire_V1_Grants()
            answer.grants = grants
            return .grants(answer)
        }
        bed.database.answer("ListGrants") { _ in list([grant(owner: "bob", grantee: "alice"), grant(owner: "alice", grantee: "carol")]) }
        let good = try await send(bed, .get, "/v1/grants")
        #expect(good.status == 200, "\(good.body)")
        let grants = try JSONDecoder().decode(GrantsResponse.self, from: Data(good.body.utf8)).grants
        #expect(grants.map(\.owner) == ["bob", "alice"] && grants.allSatisfy { $0.expires == nil && $0.central == nil })

        bed.database.answer("ListGrants") { _ in list([grant(owner: "bob", grantee: "carol")]) }
        #expect(try await send(bed, .get, "/v1/grants").code == "internal", "another user's grant")
        bed.database.answer("ListGrants") { _ in list([grant(owner: "bob", grantee: "alice", sha: 3)]) }
        #expect(try await send(bed, .get, "/v1/grants").code == "internal", "a malformed grant")
        bed.database.answer("ListGrants") { _ in
            var g = grant(owner: "bob", grantee: "alice")
            g.central.sha256 = Data(repeating: 2, count: 32)
            g.central.size = 10
            g.central.generation = 0
            return list([g])
        }
        #expect(try await send(bed, .get, "/v1/grants").code == "internal", "a central copy without a generation")
    }
}
