import CofferAPI
import CofferTransaction
import CofferWire
import Foundation
import HTTPTypes
import Synchronization
import CofferTesting
import Testing

/// The central-copy routes in process, over a scripted database tier: uploads are cut into chunks
/// of at most the tier link's size and sent in order, each refusal becomes its answer, and a reply
/// from the other tier that does not describe what was asked for is refused.
@Suite struct CentralRouteTests {
    let record = RecordID.random()
    var recordText: String { RecordID.text(record)! }
    var uploadID: String { Hex.encode(record) + "-" + String(repeating: "ab", count: 32) }

    func send(_ bed: RouteTestbed, _ method: HTTPRequest.Method, _ path: String, _ body: [UInt8], signedBody: [UInt8]? = nil) async throws -> RouteAnswer {
        try await bed.test { client in
            try await client.send(method, path, headers: try bed.signedHeaders(method, path, body: signedBody ?? body, token: bed.token(), signer: bed.device), body: body)
        }
    }

    func copy(size: Int64, record: [UInt8]? = nil, generation: Int64 = 1) -> Coffer_Wire_V1_CentralCopy {
        var copy = Coffer_Wire_V1_CentralCopy()
        copy.recordID = Data(record ?? self.record)
        copy.sha256 = Data(repeating: 0xab, count: 32)
        copy.size = size
        copy.generation = generation
        copy.blobID = String(repeating: "ab", count: 32)
        copy.auditIndex = 7
        return copy
    }

    @Test("an upload's bytes reach the database tier in order, in chunks no larger than the tier link's, and are committed once")
    func chunking() async throws {
        let bed = try await RouteTestbed.make()
        let received = Mutex<[(offset: Int64, count: Int)]>([])
        bed.database.answer("PutChunk") { body in
            guard case .putChunk(let chunk) = body else { throw TestError("not a chunk") }
            received.withLock { $0.append((chunk.offset, chunk.data.count)) }
            var stored = Coffer_Wire_V1_ChunkStored()
            stored.received = chunk.offset + Int64(chunk.data.count)
            return .chunkStored(stored)
        }
        let size = WireDefaults.centralChunkSize * 2 + 1234
        bed.database.answer("CommitUpload") { _ in .centralCopy(copy(size: Int64(size))) }
        let bytes = [UInt8](repeating: 7, count: size)
        let answer = try await send(bed, .put, "/v1/uploads/\(uploadID)?offset=100", bytes, signedBody: [])
        #expect(answer.status == 200, "\(answer.body)")
        let chunks = received.withLock { $0 }
        #expect(chunks.allSatisfy { $0.count <= WireDefaults.centralChunkSize } && chunks.map(\.count).reduce(0, +) == size)
        #expect(chunks.first?.offset == 100)
        #expect(zip(chunks, chunks.dropFirst()).allSatisfy { $0.offset + Int64($0.count) == $1.offset }, "in order, without gaps")
        #expect(bed.database.calls.filter { $0 == "CommitUpload" }.count == 1)
        let done = try JSONDecoder().decode(CentralUploadResponse.self, from: Data(answer.body.utf8))
        #expect(done.done && done.central?.size == Int64(size) && done.auditIndex == 7)
    }

    @Test("refusals of central copies become their answers: quota 413, not found 404, incomplete 409, refused 403, a bad offset 400")
    func refusals() async throws {
        let bed = try await RouteTestbed.make()
        let announce = RouteRefusalTests.json(CentralUploadRequest(token: RouteRefusalTests.token, sha256: String(repeating: "ab", count: 32), size: 10))
        let path = "/v1/records/\(recordText)/central"
        bed.database.refuse("BeginUpload", .quotaExceeded, "the upload would exceed the account's central-copy quota: 1 of 1")
        let quota = try await send(bed, .post, path, announce)
        #expect(quota.status == 413 && quota.code == "quota_exceeded" && quota.body.contains("1 of 1"), "\(quota.body)")
        bed.database.refuse("BeginUpload", .notFound, "no such record")
        #expect(try await send(bed, .post, path, announce).status == 404)
        bed.database.refuse("OpenDownload", .forbidden, "the decode key was destroyed")
        #expect(try await send(bed, .get, path, []).status == 403)
        bed.database.refuse("CommitUpload", .conflict, "the upload is incomplete: 3 of 10 bytes were received; send the rest")
        bed.database.answer("PutChunk") { _ in
            var stored = Coffer_Wire_V1_ChunkStored()
            stored.received = 3
            return .chunkStored(stored)
        }
        let incomplete = try await send(bed, .put, "/v1/uploads/\(uploadID)", [1, 2, 3], signedBody: [])
        #expect(incomplete.status == 409 && incomplete.body.contains("3 of 10"), "\(incomplete.body)")
        #expect(try await send(bed, .put, "/v1/uploads/\(uploadID)?offset=x", [], signedBody: []).status == 400)
        #expect(try await send(bed, .put, "/v1/uploads/not-an-upload", [], signedBody: []).status == 404)
        #expect(try await send(bed, .post, "/v1/records/\(recordText)/central",
                               RouteRefusalTests.json(CentralUploadRequest(token: RouteRefusalTests.token, sha256: "AB", size: 10))).status == 400)
    }

    @Test("a database tier that answers with another record's copy, a chunk count it was not sent, or too many bytes gets no use of it")
    func hostileReplies() async throws {
        let bed = try await RouteTestbed.make()
        bed.database.answer("OpenDownload") { _ in .centralCopy(copy(size: 10, record: RecordID.random())) }
        #expect(try await send(bed, .get, "/v1/records/\(recordText)/central", []).code == "internal")

        bed.database.answer("PutChunk") { _ in
            var stored = Coffer_Wire_V1_ChunkStored()
            stored.received = 999
            return .chunkStored(stored)
        }
        #expect(try await send(bed, .put, "/v1/uploads/\(uploadID)", [1, 2, 3], signedBody: []).code == "internal")
        #expect(!bed.database.calls.contains("CommitUpload"), "nothing is committed after a reply that does not add up")

        bed.database.answer("OpenDownload") { _ in .centralCopy(copy(size: 10)) }
        bed.database.answer("ReadChunk") { _ in
            var data = Coffer_Wire_V1_ChunkData()
            data.data = Data(repeating: 1, count: 11)
            return .chunkData(data)
        }
        let cut = try? await send(bed, .get, "/v1/records/\(recordText)/central", [])
        #expect(cut == nil || cut!.body.utf8.count < 10, "the answer is cut short rather than carrying bytes the tier was not asked for")
    }
}
