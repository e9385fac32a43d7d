import CofferAPI
import CofferKeys
import CofferTransaction
import CofferWire
import Crypto
import Foundation
import HTTPTypes
import Testing

/// A database tier that answers with malformed values gets an error answer, never a trap: every
/// value that crosses the tier boundary is checked before it is used.
@Suite struct MalformedReplyTests {
    func send(_ bed: RouteTestbed, _ method: HTTPRequest.Method, _ path: String, _ body: [UInt8]) async throws -> RouteAnswer {
        try await bed.test { client in
            try await client.send(method, path, headers: try bed.signedHeaders(method, path, body: body, token: bed.token(), signer: bed.device), body: body)
        }
    }

    @Test("record ids of the wrong length, answers of the wrong kind and records that do not match are refused, and the tier keeps serving")
    func malformedReplies() async throws {
        let bed = try await RouteTestbed.make()
        bed.database.answer("ListRecords") { _ in
            var summary = Coffer_Wire_V1_RecordSummary()
            summary.recordID = Data([1, 2, 3])
            summary.sha256 = Data(repeating: 0, count: 32)
            var records = Coffer_Wire_V1_Records()
            records.records = [summary]
            return .records(records)
        }
        #expect(try await send(bed, .get, "/v1/records", []).code == "internal")

        bed.database.answer("ListHistory") { _ in
            var event = Coffer_Wire_V1_AuditEvent()
            event.recordID = Data(repeating: 7, count: 5)
            event.kind = "save"
            var history = Coffer_Wire_V1_History()
            history.events = [event]
            return .history(history)
        }
        #expect(try await send(bed, .get, "/v1/history", []).code == "internal")

        let save = RouteRefusalTests.json(SaveRequest(fileName: "a.txt", sha256: String(repeating: "ab", count: 32), size: 1, requestID: UUID().uuidString))
        bed.database.answer("CreateRecord") { _ in .pong(.init()) }
        #expect(try await send(bed, .post, "/v1/save", save).code == "internal", "an answer of another kind")
        bed.database.answer("CreateRecord") { _ in
            var created = Coffer_Wire_V1_RecordCreated()
            created.recordID = Data([9])
            created.receipt = Data("not a receipt".utf8)
            return .recordCreated(created)
        }
        let garbled = try await send(bed, .post, "/v1/save", save)
        #expect(garbled.status == 409 && garbled.code == "request_reused", "a repeated save's record that does not check out: \(garbled.body)")

        let record = RecordID.random()
        let retrieve = RouteRefusalTests.json(RetrieveRequest(recordID: RecordID.text(record)!, fileName: "a.txt", token: RouteRefusalTests.token))
        bed.database.answer("ReleaseKey") { _ in
            var released = Coffer_Wire_V1_KeyReleased()
            released.wrappedDecodeKey = Data(repeating: 1, count: 60)
            released.encodeKeyID = Data(repeating: 2, count: 32)
            return .keyReleased(released)
        }
        #expect(try await send(bed, .post, "/v1/retrieve", retrieve).code == "internal", "a wrapped key that does not unwrap")

        // A key that unwraps, with a hash of the wrong length: the key is released, no re-seal is staged.
        let (decodeKey, releasedKey) = try bed.released(record, sha256: [1, 2, 3])
        bed.database.answer("ReleaseKey") { _ in .keyReleased(releasedKey) }
        let released = try await send(bed, .post, "/v1/retrieve", retrieve)
        #expect(released.status == 200, "\(released.body)")
        let answer = try JSONDecoder().decode(RetrieveResponse.self, from: Data(released.body.utf8))
        #expect(answer.reseal == nil && answer.decodeKey == decodeKey.rawRepresentation.base64EncodedString())

        bed.database.answer("ListRecords") { _ in .records(.init()) }
        #expect(try await send(bed, .get, "/v1/records", []).status == 200, "still serving")
    }
}
