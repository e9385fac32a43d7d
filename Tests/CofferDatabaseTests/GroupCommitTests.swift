import CofferDatabase
import CofferStorage
import CofferTesting
import CofferWire
import Foundation
import Logging
import Testing

/// Waiting requests answered together in one transaction: each keeps its own outcome, the batch
/// commits once, and nothing is answered that was not committed.
@Suite struct GroupCommitTests {
    enum Backend: String, CaseIterable, Sendable { case sqlite, postgres }

    static var backends: [Backend] {
        TestEnvironment.postgresURL != nil || TestEnvironment.postgresRequired ? Backend.allCases : [.sqlite]
    }

    /// A handler and a second connection to its store, for checking what was committed.
    func open(_ backend: Backend) async throws -> (RequestDispatcher, any SQLConnection) {
        switch backend {
        case .sqlite:
            let path = try TestEnvironment.makeTemporaryDirectory("batch") + "/store.sqlite"
            let handler = try RequestDispatcher(logger: Logger(label: "test")) { try RecordStore(connection: SQLiteConnection(path: path)) }
            return (handler, try SQLiteConnection(path: path))
        case .postgres:
            let url = try await TestEnvironment.makePostgresDatabase()
            let handler = try RequestDispatcher(logger: Logger(label: "test")) { try RecordStore(connection: PostgresConnection(url: url)) }
            return (handler, try PostgresConnection(url: url))
        }
    }

    func register(_ user: String) -> WireRequest {
        var register = Coffer_Wire_V1_RegisterUser()
        register.user = user
        register.passwordHash = "h"
        return WireProtocol.request(.registerUser(register))
    }

    func save(_ id: UInt8, owner: String = "alice", nonce: UInt8) -> WireRequest {
        var create = Coffer_Wire_V1_CreateRecord()
        create.recordID = Data(repeating: id, count: 16)
        create.owner = owner
        create.fileName = "f\(id).txt"
        create.sha256 = Data(repeating: 2, count: 32)
        create.wrappedDecodeKey = Data([1, 2, 3])
        create.receiptSignature = Data([4])
        var request = WireProtocol.request(.createRecord(create))
        request.replayGuard.clientID = "client"
        request.replayGuard.nonce = Data(repeating: nonce, count: 16)
        request.replayGuard.timeUnixMs = Int64(Date().timeIntervalSince1970 * 1000)
        return request
    }

    func decode(_ reply: [UInt8]?) throws -> WireResponse {
        try WireProtocol.decode(WireResponse.self, from: try #require(reply))
    }

    func count(_ db: any SQLConnection, _ sql: String) throws -> Int64 {
        try db.query(sql, []).first?.int(0) ?? -1
    }

    @Test("a batch of saves commits together; replies come in order with consecutive audit indexes", arguments: backends)
    func batchCommits(backend: Backend) async throws {
        let (handler, db) = try await open(backend)
        _ = handler.handle(try WireProtocol.encode(register("alice")))
        let requests = (1...8).map { save(UInt8($0), nonce: UInt8($0)) }
        let replies = handler.handleBatch(try requests.map { try WireProtocol.encode($0) })
        #expect(replies.count == 8)
        var indexes: [Int64] = []
        for (request, reply) in zip(requests, replies) {
            let response = try decode(reply)
            #expect(response.requestID == request.requestID)
            guard case .ack(let ack) = response.body else { Issue.record("no ack: \(response)"); continue }
            indexes.append(ack.auditIndex)
        }
        #expect(indexes == Array(1...8))
        #expect(try count(db, "SELECT COUNT(*) FROM records") == 8)
        #expect(try count(db, "SELECT COUNT(*) FROM audit_log") == 9)
        #expect(try count(db, "SELECT COUNT(*) FROM audit_tree WHERE level = 0") == 9)
    }

    @Test("in a batch, a refused, replayed, malformed or undecodable request fails alone; the others commit", arguments: backends)
    func failuresStayAlone(backend: Backend) async throws {
        let (handler, db) = try await open(backend)
        _ = handler.handle(try WireProtocol.encode(register("alice")))
        var noBody = WireProtocol.request(.ping(.init()))
        noBody.body = nil
        let batch: [[UInt8]] = [
            try WireProtocol.encode(save(1, nonce: 1)),
            try WireProtocol.encode(save(2, owner: "nobody", nonce: 2)),   // no such owner: refused
            try WireProtocol.encode(save(3, nonce: 1)),                    // the first one's nonce: a replay
            [0xff, 0x00, 0x13],                                            // not a request at all
            try WireProtocol.encode(noBody),                               // no body
            try WireProtocol.encode(register("alice")),                    // the name is taken
            try WireProtocol.encode(save(4, nonce: 4)),
        ]
        let replies = handler.handleBatch(batch)
        #expect(replies.count == batch.count)
        #expect(replies[3] == nil, "bytes that are not a request get no reply")
        let codes: [Coffer_Wire_V1_Error.Code?] = try [0, 1, 2, 4, 5, 6].map { position in
            if case .error(let error) = try decode(replies[position]).body { return error.code }
            return nil
        }
        #expect(codes == [nil, .conflict, .replayed, .badRequest, .conflict, nil])
        #expect(try count(db, "SELECT COUNT(*) FROM records") == 2)
        #expect(try count(db, "SELECT COUNT(*) FROM audit_log WHERE kind = 'save'") == 2)
        #expect(try count(db, "SELECT COUNT(*) FROM users") == 1)
    }

    @Test("the same request twice in one batch runs once and gets the same reply twice", arguments: backends)
    func retryInsideBatch(backend: Backend) async throws {
        let (handler, db) = try await open(backend)
        _ = handler.handle(try WireProtocol.encode(register("alice")))
        let request = try WireProtocol.encode(save(1, nonce: 1))
        let replies = handler.handleBatch([request, try WireProtocol.encode(save(2, nonce: 2)), request])
        #expect(replies[0] == replies[2])
        #expect(try count(db, "SELECT COUNT(*) FROM records") == 2)
        #expect(try count(db, "SELECT COUNT(*) FROM audit_log WHERE kind = 'save'") == 2)
    }

    @Test("when the batch cannot commit, every request is answered UNAVAILABLE and nothing of it is stored")
    func failedCommit() async throws {
        let (handler, db) = try await open(.sqlite)
        _ = handler.handle(try WireProtocol.encode(register("alice")))
        // Another connection holds the write lock past SQLite's busy timeout: the batch cannot begin.
        try db.execute("BEGIN IMMEDIATE")
        let batch = [try WireProtocol.encode(save(1, nonce: 1)), try WireProtocol.encode(save(2, nonce: 2))]
        let replies = handler.handleBatch(batch)
        try db.execute("ROLLBACK")
        for reply in replies {
            guard case .error(let error) = try decode(reply).body else { Issue.record("answered although nothing was committed"); continue }
            #expect(error.code == .unavailable)
        }
        #expect(try count(db, "SELECT COUNT(*) FROM records") == 0)
        // The transaction tier's retry, with the same request ids, then succeeds.
        let retried = handler.handleBatch(batch)
        for reply in retried {
            guard case .ack = try decode(reply).body else { Issue.record("the retry failed"); continue }
        }
        #expect(try count(db, "SELECT COUNT(*) FROM records") == 2)
    }
}
