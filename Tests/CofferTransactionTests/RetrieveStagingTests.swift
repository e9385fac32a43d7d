import CofferAPI
import CofferKeys
import CofferTierLink
import CofferTransaction
import CofferWire
import Crypto
import Foundation
import HTTPTypes
import Testing

/// A retrieve that states its receipt's SHA-256 and size has its re-seal staged with the release
/// (one tier round trip less); one whose statement the database tier does not take, or one that
/// states nothing, is staged afterwards for the record's own hash.
@Suite struct RetrieveStagingTests {
    let record = RecordID.random()
    let stated = String(repeating: "ab", count: 32)

    func send(_ bed: RouteTestbed, _ body: RetrieveRequest) async throws -> RouteAnswer {
        let bytes = RouteRefusalTests.json(body)
        return try await bed.test { client in
            try await client.send(.post, "/v1/retrieve", headers: try bed.signedHeaders(.post, "/v1/retrieve", body: bytes, token: bed.token(), signer: bed.device), body: bytes)
        }
    }

    func request(sha256: String?, size: Int64?) -> RetrieveRequest {
        RetrieveRequest(recordID: RecordID.text(record)!, fileName: "a.txt", token: RouteRefusalTests.token, sha256: sha256, size: size)
    }

    /// A database double that releases a key for `recordSHA256` and stages the request's next
    /// generation only when it was made for that hash.
    func releasing(_ bed: RouteTestbed, recordSHA256: [UInt8]) throws {
        let decodeKey = P256.KeyAgreement.PrivateKey()
        let wrapped = try KeyWrapper(kek: bed.keys.kek).wrap(decodeKey, recordID: record, owner: "alice")
        bed.database.answer("ReleaseKey") { body in
            guard case .releaseKey(let m) = body else { throw DatabaseLinkError.refused(.internal, "not a key release") }
            var released = Coffer_Wire_V1_KeyReleased()
            released.wrappedDecodeKey = Data(wrapped)
            released.encodeKeyID = Data(KeyWrapper.keyID(decodeKey.publicKey))
            released.sha256 = Data(recordSHA256)
            released.size = 5
            released.nextStaged = m.hasNext && m.next.sha256 == Data(recordSHA256) && m.next.size == 5
            return .keyReleased(released)
        }
        bed.database.answer("StageReseal") { _ in .ack(.init()) }
    }

    @Test("the stated hash and size make the next generation before the release; when it is staged with it, no StageReseal follows")
    func stagedWithTheRelease() async throws {
        let bed = try await RouteTestbed.make()
        try releasing(bed, recordSHA256: Hex.decode(stated)!)
        let answer = try await send(bed, request(sha256: stated, size: 5))
        #expect(answer.status == 200, "\(answer.body)")
        let response = try JSONDecoder().decode(RetrieveResponse.self, from: Data(answer.body.utf8))
        let offer = try #require(response.reseal)
        #expect(offer.receipt.sha256 == stated && offer.receipt.size == 5 && offer.receipt.recordID == RecordID.text(record))
        #expect(bed.database.calls.filter { $0 != "Ping" } == ["ReleaseKey"])
    }

    @Test("a stated hash that is not the record's is not staged: the re-seal is staged afterwards for the record's own hash")
    func notTheRecords() async throws {
        let bed = try await RouteTestbed.make()
        let own = Array(repeating: UInt8(0x11), count: 32)
        try releasing(bed, recordSHA256: own)
        let answer = try await send(bed, request(sha256: stated, size: 5))
        #expect(answer.status == 200, "\(answer.body)")
        let offer = try #require(try JSONDecoder().decode(RetrieveResponse.self, from: Data(answer.body.utf8)).reseal)
        #expect(offer.receipt.sha256 == Hex.encode(own))
        #expect(bed.database.calls.filter { $0 != "Ping" } == ["ReleaseKey", "StageReseal"])
    }

    @Test("a retrieve that states nothing is staged after the release, as before")
    func statesNothing() async throws {
        let bed = try await RouteTestbed.make()
        try releasing(bed, recordSHA256: Hex.decode(stated)!)
        let answer = try await send(bed, request(sha256: nil, size: nil))
        #expect(answer.status == 200, "\(answer.body)")
        #expect(bed.database.calls.filter { $0 != "Ping" } == ["ReleaseKey", "StageReseal"])
    }

    @Test("a hash without a size, a size without a hash, a malformed hash or a negative size is refused with 400 before the database tier is asked")
    func malformed() async throws {
        let bed = try await RouteTestbed.make()
        try releasing(bed, recordSHA256: Hex.decode(stated)!)
        for body in [request(sha256: stated, size: nil), request(sha256: nil, size: 5), request(sha256: "xyz", size: 5),
                     request(sha256: stated.uppercased(), size: 5), request(sha256: stated, size: -1)] {
            let answer = try await send(bed, body)
            #expect(answer.status == 400, "\(String(describing: body.sha256)) \(String(describing: body.size)): \(answer.body)")
        }
        #expect(!bed.database.calls.contains("ReleaseKey"))
    }
}
