import CofferStorage
import CofferTesting
import Foundation
import Testing

/// Requests retried by the transaction tier run once.
@Suite struct IdempotencyTests {
    typealias Backend = RecordStoreTests.Backend

    func open(_ backend: Backend) async throws -> RecordStore {
        try await RecordStoreTests().openStore(backend)
    }

    final class Counter: @unchecked Sendable { var value = 0 }

    @Test("a request id runs once; a retry gets the stored reply", arguments: RecordStoreTests.backends)
    func once(backend: Backend) async throws {
        let store = try await open(backend)
        let runs = Counter()
        let id = Array(repeating: UInt8(1), count: 16)
        let first = try store.once(requestID: id, nowMs: 1) { runs.value += 1; return [42] }
        let second = try store.once(requestID: id, nowMs: 2) { runs.value += 1; return [43] }
        #expect(first.reply == [42] && !first.repeated)
        #expect(second.reply == [42] && second.repeated)
        #expect(runs.value == 1)
        _ = try store.once(requestID: Array(repeating: 2, count: 16), nowMs: 3) { runs.value += 1; return [44] }
        #expect(runs.value == 2)
    }

    @Test("a request whose work fails stores nothing, so its retry runs again", arguments: RecordStoreTests.backends)
    func failureIsNotStored(backend: Backend) async throws {
        let store = try await open(backend)
        let id = Array(repeating: UInt8(3), count: 16)
        struct Boom: Error {}
        #expect(throws: Boom.self) { try store.once(requestID: id, nowMs: 1) { throw Boom() } }
        #expect(try store.once(requestID: id, nowMs: 2) { [7] }.repeated == false)
    }

    @Test("a refused change inside a request (a savepoint) keeps the request's transaction usable", arguments: RecordStoreTests.backends)
    func nestedRefusal(backend: Backend) async throws {
        let store = try await open(backend)
        #expect(try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s", device: nil))
        let record = RecordStoreTests().record("alice")
        #expect(try store.createRecord(record, source: "s") != nil)
        let answer = try store.once(requestID: Array(repeating: 4, count: 16), nowMs: 2) {
            // The duplicate id fails inside; on PostgreSQL that needs a savepoint, or the whole transaction aborts.
            let index = try store.createRecord(record, source: "s")
            return [index == nil ? 0 : 1]
        }
        #expect(answer.reply == [0])
        #expect(try store.listRecords(owner: "alice", limit: 10).count == 1)
    }

    @Test("the same nonce is accepted again only for the same request id", arguments: RecordStoreTests.backends)
    func nonceRetries(backend: Backend) async throws {
        let store = try await open(backend)
        let nonce = Array(repeating: UInt8(9), count: 16)
        let a = Array(repeating: UInt8(0xA), count: 16), b = Array(repeating: UInt8(0xB), count: 16)
        #expect(try store.consumeNonce(clientID: "c", nonce: nonce, timeMs: 1, retentionMs: 1_000, requestID: a))
        #expect(try store.consumeNonce(clientID: "c", nonce: nonce, timeMs: 2, retentionMs: 1_000, requestID: a), "a retry of the same request")
        #expect(try !store.consumeNonce(clientID: "c", nonce: nonce, timeMs: 3, retentionMs: 1_000, requestID: b), "a replay in another request")
    }

    @Test("a stored reply that carries a record's key is forgotten when the key is destroyed", arguments: RecordStoreTests.backends)
    func keyRepliesForgotten(backend: Backend) async throws {
        let store = try await open(backend)
        #expect(try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s", device: nil))
        let record = RecordStoreTests().record("alice")
        #expect(try store.createRecord(record, source: "s") != nil)
        let id = Array(repeating: UInt8(5), count: 16)
        _ = try store.once(requestID: id, recordID: record.id, nowMs: 2) { [1, 2, 3] }
        #expect(try store.once(requestID: id, recordID: record.id, nowMs: 3) { [9] }.repeated)
        _ = try store.deleteRecord(recordID: record.id, owner: "alice", receiptSignature: record.receiptSignature, timeMs: 4, source: "s", clientID: "")
        #expect(try store.once(requestID: id, recordID: record.id, nowMs: 5) { [9] }.repeated == false, "the reply with the key is gone")
    }
}

/// A writer that holds a lock too long (a frozen process) makes the others fail fast and retryably.
@Suite struct ContentionTests {
    @Test("a lock held past the timeout is contention, which the tier retries, not a failure", arguments: RecordStoreTests.backends)
    func lockTimeout(backend: RecordStoreTests.Backend) async throws {
        let (a, b): (any SQLConnection, any SQLConnection)
        switch backend {
        case .sqlite:
            let path = try TestEnvironment.makeTemporaryDirectory("contention") + "/store.sqlite"
            _ = try RecordStore(connection: SQLiteConnection(path: path))
            (a, b) = (try SQLiteConnection(path: path), try SQLiteConnection(path: path))
        case .postgres:
            let url = try await TestEnvironment.makePostgresDatabase()
            _ = try RecordStore(connection: PostgresConnection(url: url))
            (a, b) = (try PostgresConnection(url: url), try PostgresConnection(url: url))
        }
        let id = Array(repeating: UInt8(1), count: 16)
        try a.execute(a.dialect == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN")
        try a.query("INSERT INTO request_replies (request_id, reply, at_ms) VALUES ($1, $2, $3)", [.blob(id), .blob([]), .int(0)])
        #expect {
            try b.transaction {
                try b.query("INSERT INTO request_replies (request_id, reply, at_ms) VALUES ($1, $2, $3)", [.blob(id), .blob([]), .int(0)])
            }
        } throws: { ($0 as? StorageError)?.code == .contended }
        try a.execute("ROLLBACK")
    }
}
