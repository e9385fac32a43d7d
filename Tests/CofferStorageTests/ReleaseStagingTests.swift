import CofferStorage
import CofferTesting
import Foundation
import Testing

/// A release that brings the record's next key generation stages it in the release's own
/// transaction, but only when it was made for the record's SHA-256 and size.
@Suite struct ReleaseStagingTests {
    typealias Backend = RecordStoreTests.Backend

    func next(sha256: [UInt8] = Array(repeating: 9, count: 32), size: Int64 = 5) -> KeyGeneration {
        KeyGeneration(wrappedDecodeKey: [4, 4], encodeKeyID: [5], receipt: [6], receiptSignature: [8, 8], sha256: sha256, size: size)
    }

    func setUp(_ backend: Backend) async throws -> (RecordStore, [UInt8]) {
        let tests = RecordStoreTests()
        let store = try await tests.openStore(backend)
        _ = try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s")
        _ = try store.createRecord(tests.record("alice"), source: "s")
        return (store, tests.record("alice").id)
    }

    func release(_ store: RecordStore, _ id: [UInt8], signature: [UInt8] = [7, 7, 7], fileName: String = "a.txt", next: KeyGeneration?) throws -> KeyRelease {
        try store.releaseKey(recordID: id, owner: "alice", fileName: fileName, receiptSignature: signature, timeMs: 3, source: "s", next: next)
    }

    @Test("a next generation made for the record's hash and size is staged with the release, and its confirmation destroys the old key",
          arguments: RecordStoreTests.backends)
    func staged(backend: Backend) async throws {
        let (store, id) = try await setUp(backend)
        guard case .released(let key) = try release(store, id, next: next()) else {
            Issue.record("not released")
            return
        }
        #expect(key.nextStaged && key.wrappedDecodeKey == [1, 2, 3])
        #expect(try store.confirmReseal(recordID: id, owner: "alice", receiptSignature: [8, 8], timeMs: 4, source: "s", clientID: "c") == .done)
        #expect(try release(store, id, next: nil) == .refused(.oldCopy))
        let kinds = try #require(try store.history(owner: "alice", recordID: id, limit: 10)).map(\.kind)
        #expect(kinds == ["save", "retrieve", "reseal", "key_destroyed", "retrieve_refused"])
    }

    @Test("a next generation made for another hash or size is not staged, and nothing waits to be confirmed", arguments: RecordStoreTests.backends)
    func notTheRecords(backend: Backend) async throws {
        let (store, id) = try await setUp(backend)
        for wrong in [next(sha256: Array(repeating: 1, count: 32)), next(size: 6)] {
            guard case .released(let key) = try release(store, id, next: wrong) else {
                Issue.record("not released")
                return
            }
            #expect(!key.nextStaged)
            #expect(try store.confirmReseal(recordID: id, owner: "alice", receiptSignature: [8, 8], timeMs: 4, source: "s", clientID: "c")
                == .refused(.noResealWaiting))
        }
    }

    @Test("a refused release stages nothing", arguments: RecordStoreTests.backends)
    func refused(backend: Backend) async throws {
        let (store, id) = try await setUp(backend)
        #expect(try release(store, id, fileName: "b.txt", next: next()) == .refused(.fileNameMismatch))
        #expect(try release(store, id, signature: [1], next: next()) == .refused(.receiptMismatch))
        #expect(try store.confirmReseal(recordID: id, owner: "alice", receiptSignature: [8, 8], timeMs: 4, source: "s", clientID: "c")
            == .refused(.noResealWaiting))
    }
}
