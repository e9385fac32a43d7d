import CofferAudit
import CofferStorage
import CofferTesting
import Foundation
import Testing

/// A plain save on PostgreSQL is one function call that writes everything the general path
/// writes; any other save writes nothing in that call and is left to the general path.
@Suite struct OneCallSaveTests {
    typealias Backend = RecordStoreTests.Backend
    typealias Fixture = AuditLogTests.Fixture

    func open(_ backend: Backend) async throws -> Fixture { try await AuditLogTests().open(backend) }

    func save(id: UInt8, requestID: UInt8 = 1, owner: String = "alice", nonce: UInt8? = 1, session: (user: String, issuedMs: Int64)? = nil,
              clientRequestID: [UInt8]? = nil) -> RecordStore.OneCallSave {
        var record = AuditLogTests().record(owner, id: id)
        record.clientRequestID = clientRequestID
        record.encodeKey = clientRequestID.map { _ in Array(repeating: 4, count: 65) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return RecordStore.OneCallSave(
            requestID: Array(repeating: requestID, count: 16), nowMs: now,
            nonce: nonce.map { .init(clientID: "laptop", nonce: Array(repeating: $0, count: 16), timeMs: now, session: session) },
            nonceRetentionMs: 600_000, record: record, source: "127.0.0.1", clientID: "laptop"
        )
    }

    func count(_ db: any SQLConnection, _ table: String) throws -> Int64 {
        try db.query("SELECT COUNT(*) FROM \(table)", []).first?.int(0) ?? -1
    }

    func counts(_ db: any SQLConnection) throws -> [Int64] {
        try ["records", "request_replies", "request_nonces", "audit_log", "audit_tree"].map { try count(db, $0) }
    }

    @Test("a plain save on PostgreSQL writes the record, the claim with its reply, the nonce and a save entry of a log that verifies",
          arguments: RecordStoreTests.backends)
    func plainSave(backend: Backend) async throws {
        let fixture = try await open(backend)
        try AuditLogTests().populate(fixture.store)
        var replies: [Int64] = []
        let index = try fixture.store.saveInOneCall(save(id: 5)) { index in
            replies.append(index)
            return Array("reply \(index)".utf8)
        }
        guard backend == .postgres else {
            #expect(index == nil && replies.isEmpty, "SQLite takes the general path")
            return
        }
        #expect(index == 6 && replies == [6])
        let reply = try fixture.raw.query("SELECT reply FROM request_replies WHERE request_id = $1", [.blob(Array(repeating: 1, count: 16))])
        #expect(try reply.first?.blob(0) == Array("reply 6".utf8))
        #expect(try count(fixture.raw, "request_nonces") == 1)
        let entries = try fixture.store.auditEntries(from: 0, limit: 100)
        #expect(entries.last?.kind == "save" && entries.last?.fileName == "a.txt" && entries.last?.recordID == Array(repeating: 5, count: 16))
        var memory = MemoryMerkleTree()
        for entry in entries { memory.append(leaf: entry.leaf) }
        #expect(try fixture.store.auditTreeHead().root == (try memory.rootHash()))
        // The general path appends after it, in the same log.
        #expect(try fixture.store.createRecord(AuditLogTests().record("bob", id: 6), source: "s") == 7)
        memory.append(leaf: try fixture.store.auditEntries(from: 7, limit: 1)[0].leaf)
        #expect(try fixture.store.auditTreeHead().root == (try memory.rootHash()))
    }

    @Test("a save that is not the plain case writes nothing in one call: a taken request id, a used nonce, an ended session, a locked or unknown owner, a taken record id or client request id")
    func notPlain() async throws {
        guard RecordStoreTests.backends.contains(.postgres) else { return }
        let fixture = try await open(.postgres)
        let store = fixture.store
        try AuditLogTests().populate(store)
        #expect(try store.saveInOneCall(save(id: 5, requestID: 1, nonce: 1, clientRequestID: Array(repeating: 3, count: 16))) { _ in [1] } != nil)
        let before = try counts(fixture.raw)
        let cases: [(String, RecordStore.OneCallSave)] = [
            ("request id taken", save(id: 6, requestID: 1, nonce: 2)),
            ("nonce used", save(id: 6, requestID: 2, nonce: 1)),
            ("record id taken", save(id: 5, requestID: 2, nonce: 2)),
            ("client request id taken", save(id: 6, requestID: 2, nonce: 2, clientRequestID: Array(repeating: 3, count: 16))),
            ("unknown owner", save(id: 6, requestID: 2, owner: "carol", nonce: 2)),
        ]
        for (name, attempt) in cases {
            #expect(try store.saveInOneCall(attempt) { _ in [1] } == nil, "\(name)")
            #expect(try counts(fixture.raw) == before, "\(name) wrote nothing")
        }

        try fixture.raw.query("INSERT INTO devices (user_name, client_id, public_key, enrolled_at_ms) VALUES ('alice', 'laptop', $1, 10)",
                              [.blob(Array(repeating: 1, count: 65))])
        #expect(try store.endSessions(user: "alice", clientID: "laptop", allDevices: false, timeMs: 2_000, source: "s") != nil)
        let ended = try counts(fixture.raw)
        #expect(try store.saveInOneCall(save(id: 6, requestID: 2, nonce: 2, session: (user: "alice", issuedMs: 1_000))) { _ in [1] } == nil)
        #expect(try counts(fixture.raw) == ended, "an ended session wrote nothing")

        #expect(try store.setLocked(user: "alice", locked: true, reason: "test", operatorName: "admin", timeMs: 20) != nil)
        let locked = try counts(fixture.raw)
        #expect(try store.saveInOneCall(save(id: 6, requestID: 2, nonce: 2)) { _ in [1] } == nil)
        #expect(try counts(fixture.raw) == locked, "a locked owner wrote nothing")

        let entries = try store.auditEntries(from: 0, limit: 100)
        #expect(entries.map(\.index) == Array(0..<Int64(entries.count)), "the log stayed gapless")
    }

    @Test("with one-call saves off, PostgreSQL takes the general path")
    func switchedOff() async throws {
        guard RecordStoreTests.backends.contains(.postgres) else { return }
        let fixture = try await open(.postgres)
        try AuditLogTests().populate(fixture.store)
        fixture.store.oneCallSaves = false
        #expect(try fixture.store.saveInOneCall(save(id: 5)) { _ in [1] } == nil)
        #expect(try count(fixture.raw, "records") == 2)
    }
}
