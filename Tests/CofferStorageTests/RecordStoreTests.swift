import CofferStorage
import CofferTesting
import Foundation
import Testing

/// The store's behaviour, identical on SQLite and PostgreSQL.
@Suite struct RecordStoreTests {
    enum Backend: String, CaseIterable, Sendable { case sqlite, postgres }

    static var backends: [Backend] {
        TestEnvironment.postgresURL != nil || TestEnvironment.postgresRequired ? Backend.allCases : [.sqlite]
    }

    func openStore(_ backend: Backend) async throws -> RecordStore {
        switch backend {
        case .sqlite:
            let dir = try TestEnvironment.makeTemporaryDirectory("store")
            return try RecordStore(connection: SQLiteConnection(path: dir + "/test.sqlite"))
        case .postgres:
            return try RecordStore(connection: PostgresConnection(url: try await TestEnvironment.makePostgresDatabase()))
        }
    }

    func record(_ owner: String, id: UInt8 = 1) -> StoredRecord {
        StoredRecord(id: Array(repeating: id, count: 16), owner: owner, fileName: "a.txt", sha256: Array(repeating: 9, count: 32),
                     size: 5, createdAtMs: 1_000, encodeKeyID: Array(repeating: 8, count: 32), wrappedDecodeKey: [1, 2, 3],
                     receipt: Array("{}".utf8), receiptSignature: [7, 7, 7])
    }

    /// Takes a fresh nonce for a request of `user`'s session issued at `issued` on `client`.
    func take(_ store: RecordStore, _ client: String, _ user: String, issued: Int64) throws -> Bool {
        try store.consumeNonce(clientID: client, nonce: (0..<16).map { _ in UInt8.random(in: 0...255) }, timeMs: 10_000,
                               retentionMs: 600_000, session: (user: user, issuedMs: issued))
    }

    /// Whether `request` is refused because a logout, password change or unlock ended its session.
    func ended(_ request: () throws -> Bool) throws -> Bool {
        do { _ = try request() } catch let error as StorageError where error.code == .sessionEnded { return true }
        return false
    }

    @Test("migrations bring a new store to the latest version and are idempotent", arguments: backends)
    func migrations(backend: Backend) async throws {
        let store = try await openStore(backend)
        #expect(store.schemaVersion == Migrations.latestVersion)
    }

    @Test("a user registers once; the name cannot be taken twice", arguments: backends)
    func registration(backend: Backend) async throws {
        let store = try await openStore(backend)
        #expect(try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s"))
        #expect(try !store.registerUser(name: "alice", passwordHash: "h2", timeMs: 2, source: "s"))
        #expect(try store.credentials(user: "alice")?.passwordHash == "h")
        #expect(try store.credentials(user: "nobody") == nil)
        #expect(try store.history(owner: "alice", recordID: nil, limit: 10)?.map(\.kind) == ["register"])
    }

    @Test("a key is released only to the owner with the stored name and receipt; every attempt is audited", arguments: backends)
    func release(backend: Backend) async throws {
        let store = try await openStore(backend)
        _ = try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s")
        _ = try store.registerUser(name: "bob", passwordHash: "h", timeMs: 1, source: "s")
        #expect(try store.createRecord(record("alice"), source: "s") != nil)
        #expect(try store.createRecord(record("alice"), source: "s") == nil, "a second record with the same id")
        let id = record("alice").id

        let released = try store.releaseKey(recordID: id, owner: "alice", fileName: "a.txt", receiptSignature: [7, 7, 7], timeMs: 2, source: "s")
        guard case .released(let key) = released else {
            Issue.record("not released: \(released)")
            return
        }
        #expect(key.wrappedDecodeKey == [1, 2, 3])
        #expect(key.encodeKeyID == Array(repeating: 8, count: 32))
        #expect(key.size == 5)
        #expect(try store.releaseKey(recordID: id, owner: "alice", fileName: "b.txt", receiptSignature: [7, 7, 7], timeMs: 3, source: "s")
            == .refused(.fileNameMismatch))
        #expect(try store.releaseKey(recordID: id, owner: "alice", fileName: "a.txt", receiptSignature: [6], timeMs: 4, source: "s")
            == .refused(.receiptMismatch))
        #expect(try store.releaseKey(recordID: id, owner: "bob", fileName: "a.txt", receiptSignature: [7, 7, 7], timeMs: 5, source: "s")
            == .notFound)
        #expect(try store.releaseKey(recordID: Array(repeating: 5, count: 16), owner: "alice", fileName: "a.txt", receiptSignature: [7], timeMs: 6, source: "s")
            == .notFound, "another owner's record and a missing one read alike, in the history too")

        let aliceRecord = try #require(try store.history(owner: "alice", recordID: id, limit: 100))
        #expect(aliceRecord.map(\.kind) == ["save", "retrieve", "retrieve_refused", "retrieve_refused"])
        #expect(aliceRecord.last?.detail == "the receipt does not match the record")
        #expect(try store.history(owner: "bob", recordID: id, limit: 100) == nil, "bob cannot read alice's record history")
        let bobs = try #require(try store.history(owner: "bob", recordID: nil, limit: 100))
        #expect(bobs.map(\.kind) == ["register", "retrieve_refused"], "bob's attempt is in bob's own history")
        #expect(bobs.last?.fileName == nil, "the name bob presented for a record not his is not copied into the log")
        #expect(aliceRecord[2].fileName == "a.txt", "a refusal on the owner's record names the stored file, not the presented one")
    }

    @Test("a key release for a record that does not exist is audited with what the store knows, never the presented name", arguments: backends)
    func releaseOfMissingRecordKeepsNoPresentedText(backend: Backend) async throws {
        let store = try await openStore(backend)
        _ = try store.registerUser(name: "victim", passwordHash: "h", timeMs: 1, source: "s")
        let hostile = "invoice\u{202E}fdp.exe — call +1 555 0100 to restore your files"
        let missing = Array(repeating: UInt8(9), count: 16)
        #expect(try store.releaseKey(recordID: missing, owner: "victim", fileName: hostile, receiptSignature: [1], timeMs: 2, source: "10.1.2.3", clientID: "c")
            == .notFound)
        let events = try #require(try store.history(owner: "victim", recordID: nil, limit: 10))
        let refused = try #require(events.last)
        #expect(refused.kind == "retrieve_refused", "the attempt is still audited")
        #expect(refused.fileName == nil && refused.recordID == missing && refused.source == "10.1.2.3")
        #expect(!refused.detail.contains("invoice") && !String(decoding: refused.leaf, as: UTF8.self).contains("invoice"))
    }

    @Test("a staged re-seal becomes current on confirmation; the old receipt is then refused as an old copy", arguments: backends)
    func reseal(backend: Backend) async throws {
        let store = try await openStore(backend)
        _ = try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s")
        _ = try store.createRecord(record("alice"), source: "s")
        let id = record("alice").id
        #expect(try store.stageReseal(recordID: id, owner: "alice", wrappedDecodeKey: [4, 4], encodeKeyID: [5], receipt: [6], receiptSignature: [8, 8], timeMs: 2))
        #expect(try !store.stageReseal(recordID: id, owner: "bob", wrappedDecodeKey: [4], encodeKeyID: [5], receipt: [6], receiptSignature: [9], timeMs: 2))
        #expect(try store.confirmReseal(recordID: id, owner: "alice", receiptSignature: [1], timeMs: 5, source: "s", clientID: "c") == .refused(.noResealWaiting))
        #expect(try store.confirmReseal(recordID: id, owner: "alice", receiptSignature: [8, 8], timeMs: 5, source: "s", clientID: "c") == .done)
        #expect(try store.confirmReseal(recordID: id, owner: "alice", receiptSignature: [8, 8], timeMs: 6, source: "s", clientID: "c") == .alreadyDone)

        guard case .released(let key) = try store.releaseKey(recordID: id, owner: "alice", fileName: "a.txt", receiptSignature: [8, 8], timeMs: 7, source: "s") else {
            Issue.record("the new generation does not release")
            return
        }
        #expect(key.wrappedDecodeKey == [4, 4])
        let old = try store.releaseKey(recordID: id, owner: "alice", fileName: "a.txt", receiptSignature: [7, 7, 7], timeMs: 8, source: "s")
        guard case .refused(let reason) = old else {
            Issue.record("the old copy was not refused: \(old)")
            return
        }
        #expect(reason == .oldCopy && reason.reason.contains("old copy"))
        let kinds = try #require(try store.history(owner: "alice", recordID: id, limit: 100)).map(\.kind)
        #expect(kinds == ["save", "reseal", "key_destroyed", "retrieve", "retrieve_refused"])
    }

    @Test("presenting a staged receipt confirms the re-seal and releases the new key", arguments: backends)
    func stagedReceiptConfirms(backend: Backend) async throws {
        let store = try await openStore(backend)
        _ = try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s")
        _ = try store.createRecord(record("alice"), source: "s")
        let id = record("alice").id
        _ = try store.stageReseal(recordID: id, owner: "alice", wrappedDecodeKey: [4, 4], encodeKeyID: [5], receipt: [6], receiptSignature: [8, 8], timeMs: 2)
        guard case .released(let key) = try store.releaseKey(recordID: id, owner: "alice", fileName: "a.txt", receiptSignature: [8, 8], timeMs: 7, source: "s") else {
            Issue.record("the staged generation does not release")
            return
        }
        #expect(key.wrappedDecodeKey == [4, 4])
        #expect(key.encodeKeyID == [5])
    }

    @Test("delete destroys the keys and is audited; the record stays listed as deleted; others cannot delete it", arguments: backends)
    func delete(backend: Backend) async throws {
        let store = try await openStore(backend)
        _ = try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s")
        _ = try store.createRecord(record("alice"), source: "s")
        let id = record("alice").id
        #expect(try store.deleteRecord(recordID: id, owner: "bob", receiptSignature: [7, 7, 7], timeMs: 2, source: "s", clientID: "c") == .notFound)
        #expect(try store.deleteRecord(recordID: id, owner: "alice", receiptSignature: [1], timeMs: 2, source: "s", clientID: "c") == .refused(.notCurrentReceipt))
        #expect(try store.deleteRecord(recordID: id, owner: "alice", receiptSignature: [7, 7, 7], timeMs: 3, source: "s", clientID: "c") == .done)
        let after = try store.releaseKey(recordID: id, owner: "alice", fileName: "a.txt", receiptSignature: [7, 7, 7], timeMs: 4, source: "s")
        #expect(after == .refused(.keyDestroyed))
        #expect(try store.listRecords(owner: "alice", limit: 10).map(\.deleted) == [true])
        #expect(try store.listRecords(owner: "bob", limit: 10).isEmpty)
    }

    @Test("an operator's lock refuses the account's saves, key releases and deletes, audited; unlocking restores them", arguments: backends)
    func operatorLock(backend: Backend) async throws {
        let store = try await openStore(backend)
        _ = try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s", device: DeviceIdentity(clientID: "c", publicKey: [1]))
        _ = try store.registerUser(name: "bob", passwordHash: "h", timeMs: 1, source: "s")
        #expect(try store.createRecord(record("alice"), source: "s") != nil)
        #expect(try store.setLocked(user: "nobody", locked: true, reason: "", operatorName: "op", timeMs: 2) == nil)
        #expect(try store.setLocked(user: "alice", locked: true, reason: "laptop stolen", operatorName: "op@host", timeMs: 2) != nil)
        #expect(try store.isLocked(user: "alice"))
        #expect(try !store.isLocked(user: "bob"))
        #expect(try store.credentials(user: "alice")?.locked == true)

        #expect(throws: StorageError.self) { try store.createRecord(record("alice", id: 2), source: "s") }
        #expect(try store.createRecord(record("bob", id: 3), source: "s") != nil, "another account is not affected")
        let id = record("alice").id
        let refused = try store.releaseKey(recordID: id, owner: "alice", fileName: "a.txt", receiptSignature: [7, 7, 7], timeMs: 3, source: "s")
        #expect(refused == .refused(.accountLocked))
        #expect(try store.deleteRecord(recordID: id, owner: "alice", receiptSignature: [7, 7, 7], timeMs: 3, source: "s", clientID: "c")
                == .refused(.accountLocked))
        let history = try #require(try store.history(owner: "alice", recordID: nil, limit: 20))
        #expect(history.contains { $0.kind == "admin" && $0.detail == "locked by an operator: laptop stolen" && $0.source == "op@host" })
        #expect(history.contains { $0.kind == "retrieve_refused" && $0.detail == Refusal.accountLocked.reason })
        #expect(try store.listUsers(after: "", limit: 10).map { "\($0.name) \($0.locked) \($0.records)" } == ["alice true 1", "bob false 1"])

        #expect(try store.setLocked(user: "alice", locked: false, reason: "", operatorName: "op", timeMs: 4) != nil)
        #expect(try !store.isLocked(user: "alice"))
        guard case .released = try store.releaseKey(recordID: id, owner: "alice", fileName: "a.txt", receiptSignature: [7, 7, 7], timeMs: 5, source: "s") else {
            Issue.record("not released after the unlock")
            return
        }
        #expect(try store.createRecord(record("alice", id: 2), source: "s") != nil)
        // The sessions open when the lock came stay ended after the unlock; a new login's is served.
        #expect(try ended { try take(store, "c", "alice", issued: 1) }, "a session issued before the lock")
        #expect(try take(store, "c", "alice", issued: 5))
    }
}
