import CofferDatabase
import CofferStorage
import CofferTesting
import CofferWire
import Foundation
import Logging
import Testing

/// The KEK rotation's wire operations refuse what no transaction process sends: a rewrap batch
/// without a well-formed KEK id, too many records, oversized keys, and a candidate listing with a
/// tag or cursor of the wrong size, each with BAD_REQUEST.
@Suite struct RewrapRefusalTests {
    func makeHandler() throws -> RequestDispatcher {
        let path = try TestEnvironment.makeTemporaryDirectory("rewrap") + "/store.sqlite"
        return try RequestDispatcher(logger: Logger(label: "test")) { try RecordStore(connection: SQLiteConnection(path: path)) }
    }

    func code(_ handler: RequestDispatcher, _ body: WireRequest.OneOf_Body) throws -> WireError.Code? {
        let response = try WireProtocol.decode(WireResponse.self, from: try #require(handler.handle(try WireProtocol.encode(WireProtocol.request(body)))))
        if case .error(let error) = response.body { return error.code }
        return nil
    }

    func batch(kekID: String = "0123456789abcdef", records: Int = 1, wrappedSize: Int = 69, recordIDSize: Int = 16) -> Coffer_Wire_V1_RewrapKeys {
        var batch = Coffer_Wire_V1_RewrapKeys()
        batch.kekID = kekID
        batch.source = "test"
        batch.rewraps = (0..<records).map { _ in
            var rewrap = Coffer_Wire_V1_KeyRewrap()
            rewrap.recordID = Data(repeating: 7, count: recordIDSize)
            rewrap.oldWrapped = Data(repeating: 1, count: 69)
            rewrap.newWrapped = Data(repeating: 2, count: wrappedSize)
            return rewrap
        }
        return batch
    }

    @Test("a rewrap batch with a malformed KEK id, too many records, an oversized key or a short record id is refused BAD_REQUEST")
    func rewrapRefusals() throws {
        let handler = try makeHandler()
        #expect(try code(handler, .rewrapKeys(batch())) == nil, "a well-formed batch naming an unknown record moves nothing and is answered")
        let refused: [(String, Coffer_Wire_V1_RewrapKeys)] = [
            ("a KEK id of 15 digits", batch(kekID: "0123456789abcde")),
            ("a KEK id that is not hex", batch(kekID: "0123456789abcdeg")),
            ("more records than a batch holds", batch(records: 1_001)),
            ("a new wrapped key over 256 bytes", batch(wrappedSize: 257)),
            ("a record id of 15 bytes", batch(recordIDSize: 15)),
        ]
        for (what, body) in refused {
            #expect(try code(handler, .rewrapKeys(body)) == .badRequest, "\(what)")
        }
    }

    @Test("a candidate listing with a tag other than 9 bytes or a cursor over 16 bytes is refused BAD_REQUEST")
    func candidateRefusals() throws {
        let handler = try makeHandler()
        var list = Coffer_Wire_V1_ListRewrapCandidates()
        list.currentTag = Data(repeating: 3, count: 9)
        #expect(try code(handler, .listRewrapCandidates(list)) == nil)
        list.currentTag = Data(repeating: 3, count: 8)
        #expect(try code(handler, .listRewrapCandidates(list)) == .badRequest, "a tag of 8 bytes")
        list.currentTag = Data(repeating: 3, count: 9)
        list.afterRecordID = Data(repeating: 0, count: 17)
        #expect(try code(handler, .listRewrapCandidates(list)) == .badRequest, "a cursor of 17 bytes")
    }
}
