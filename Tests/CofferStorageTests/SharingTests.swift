import CofferDigest
import CofferStorage
import CofferTesting
import Foundation
import Testing

/// Grants in the store: who may retrieve a record besides its owner, checked at every request,
/// audited under the grantee, shown in the owner's history, and ended at once by a revocation.
@Suite struct SharingTests {
    enum Backend: String, CaseIterable, Sendable { case sqlite, postgres }

    static var backends: [Backend] {
        TestEnvironment.postgresURL != nil || TestEnvironment.postgresRequired ? Backend.allCases : [.sqlite]
    }

    let recordID = Array(repeating: UInt8(1), count: 16)
    let receipt: [UInt8] = [7, 7, 7]

    /// A store with alice's record (receipt [7, 7, 7]), and bob and carol.
    func openStore(_ backend: Backend) async throws -> RecordStore {
        let store: RecordStore = switch backend {
        case .sqlite: try RecordStore(connection: SQLiteConnection(path: try TestEnvironment.makeTemporaryDirectory("sharing") + "/test.sqlite"))
        case .postgres: try RecordStore(connection: PostgresConnection(url: try await TestEnvironment.makePostgresDatabase()))
        }
        for name in ["alice", "bob", "carol"] { _ = try store.registerUser(name: name, passwordHash: "h", timeMs: 1, source: "s") }
        let record = StoredRecord(id: recordID, owner: "alice", fileName: "plan.txt", sha256: Array(repeating: 9, count: 32), size: 5,
                                  createdAtMs: 1_000, encodeKeyID: Array(repeating: 8, count: 32), wrappedDecodeKey: [1, 2, 3],
                                  receipt: Array("{}".utf8), receiptSignature: receipt)
        #expect(try store.createRecord(record, source: "s") != nil)
        return store
    }

    func release(_ store: RecordStore, _ user: String, at time: Int64, receipt: [UInt8]? = nil) throws -> KeyRelease {
        try store.releaseKey(recordID: recordID, owner: user, fileName: "plan.txt", receiptSignature: receipt ?? self.receipt, timeMs: time, source: "s", clientID: "c-\(user)")
    }

    func share(_ store: RecordStore, by owner: String = "alice", with grantee: String, until: Int64? = nil, at time: Int64 = 2_000) throws -> GrantOutcome {
        try store.shareRecord(recordID: recordID, owner: owner, grantee: grantee, expiresAtMs: until, timeMs: time, source: "s", clientID: "c-\(owner)")
    }

    @Test("a grantee retrieves under a live grant, audited under their name with the owner's; the owner sees it in their history", arguments: backends)
    func granteeRetrieves(_ backend: Backend) async throws {
        let store = try await openStore(backend)
        #expect(try release(store, "bob", at: 1_500) == .notFound, "no grant yet: as if the record did not exist")
        guard case .done = try share(store, with: "bob") else { throw TestError("not shared") }
        guard case .released(let key) = try release(store, "bob", at: 2_500) else { throw TestError("not released to the grantee") }
        #expect(key.owner == "alice", "the decode key is wrapped for the owner")
        #expect(key.wrappedDecodeKey == [1, 2, 3])
        #expect(try release(store, "carol", at: 2_500) == .notFound, "a grant is for its grantee only")

        let bobs = try #require(try store.history(owner: "bob", recordID: nil, limit: 100))
        #expect(bobs.contains { $0.kind == "retrieve" && $0.user == "bob" && $0.fileName == "plan.txt" && $0.detail == "under alice's grant" })
        #expect(!bobs.contains { $0.kind == "share" }, "the grantee's history holds their own entries")
        let alices = try #require(try store.history(owner: "alice", recordID: nil, limit: 100))
        #expect(alices.contains { $0.kind == "share" && $0.user == "alice" && $0.detail == "shared with bob until revoked" })
        #expect(alices.contains { $0.kind == "retrieve" && $0.user == "bob" }, "the owner sees the grantee's access")
        #expect(alices.contains { $0.kind == "retrieve_refused" && $0.user == "carol" }, "and the refused attempt on a shared record")
        let record = try #require(try store.history(owner: "alice", recordID: recordID, limit: 100))
        #expect(record.contains { $0.kind == "retrieve" && $0.user == "bob" })
        let bobsRecord = try #require(try store.history(owner: "bob", recordID: recordID, limit: 100), "a grantee may list their entries of the record")
        #expect(bobsRecord.allSatisfy { $0.user == "bob" })
        #expect(try store.history(owner: "carol", recordID: recordID, limit: 100) == nil)

        // Proofs: the owner may prove the grantee's entry, a third user may not.
        let bobsEntry = try #require(alices.first { $0.kind == "retrieve" && $0.user == "bob" })
        #expect(try store.auditProofs(treeSize: nil, fromSizes: [], indexes: [bobsEntry.index], owner: "alice") != nil)
        #expect(try store.auditProofs(treeSize: nil, fromSizes: [], indexes: [bobsEntry.index], owner: "bob") != nil)
        #expect(try store.auditProofs(treeSize: nil, fromSizes: [], indexes: [bobsEntry.index], owner: "carol") == nil)
    }

    @Test("the grantee's re-seal is staged only for the owner, confirmed under the grantee, and the record stays the owner's", arguments: backends)
    func granteeReseals(_ backend: Backend) async throws {
        let store = try await openStore(backend)
        guard case .done = try share(store, with: "bob") else { throw TestError("not shared") }
        let next = KeyGeneration(wrappedDecodeKey: [4, 4], encodeKeyID: [5], receipt: [6], receiptSignature: [8, 8], sha256: Array(repeating: 9, count: 32), size: 5)
        guard case .released(let key) = try store.releaseKey(recordID: recordID, owner: "bob", fileName: "plan.txt", receiptSignature: receipt,
                                                             timeMs: 2_500, source: "s", next: next) else { throw TestError("not released") }
        #expect(!key.nextStaged, "a generation made for the grantee's name is not staged: the transaction tier makes the owner's after the release")
        #expect(try store.stageReseal(recordID: recordID, owner: "bob", wrappedDecodeKey: [4, 4], encodeKeyID: [5], receipt: [6], receiptSignature: [8, 8], timeMs: 2_600))
        #expect(try !store.stageReseal(recordID: recordID, owner: "carol", wrappedDecodeKey: [4], encodeKeyID: [5], receipt: [6], receiptSignature: [9], timeMs: 2_600))
        #expect(try store.confirmReseal(recordID: recordID, owner: "bob", receiptSignature: [8, 8], timeMs: 2_700, source: "s", clientID: "c-bob") == .done)
        let alices = try #require(try store.history(owner: "alice", recordID: recordID, limit: 100))
        #expect(alices.contains { $0.kind == "reseal" && $0.user == "bob" && $0.detail.contains("under alice's grant") })
        #expect(alices.contains { $0.kind == "key_destroyed" && $0.user == "bob" })
        #expect(try store.listRecords(owner: "alice", limit: 10).first?.id == recordID, "still alice's record")
        guard case .released(let again) = try release(store, "alice", at: 2_800, receipt: [8, 8]) else { throw TestError("owner refused after the grantee's re-seal") }
        #expect(again.wrappedDecodeKey == [4, 4])
        #expect(try release(store, "alice", at: 2_900) == .refused(.oldCopy), "the old copy is refused for the owner too")
    }

    @Test("a revocation and an expiry end the grant at once, for every request on the record, and say so", arguments: backends)
    func revokedAndExpired(_ backend: Backend) async throws {
        let store = try await openStore(backend)
        guard case .done = try share(store, with: "bob"), case .done = try share(store, with: "carol", until: 3_000) else { throw TestError("not shared") }
        guard case .released = try release(store, "carol", at: 2_999) else { throw TestError("refused before the end") }
        guard case .refused(.grantEnded(let how)) = try release(store, "carol", at: 3_000) else { throw TestError("released after the end") }
        #expect(how.contains("expired"))

        guard case .done = try store.unshareRecord(recordID: recordID, owner: "alice", grantee: "bob", timeMs: 3_100, source: "s", clientID: "c") else {
            throw TestError("not revoked")
        }
        guard case .refused(.grantEnded(let revoked)) = try release(store, "bob", at: 3_200) else { throw TestError("released after revocation") }
        #expect(revoked.contains("alice revoked it"))
        #expect(try store.openDownload(recordID: recordID, owner: "bob", timeMs: 3_200, source: "s", clientID: "c") == .refused(.grantEnded(revoked)))
        #expect(try store.confirmReseal(recordID: recordID, owner: "bob", receiptSignature: receipt, timeMs: 3_200, source: "s", clientID: "c") == .refused(.grantEnded(revoked)))
        #expect(try store.readCentral(recordID: recordID, owner: "bob", blobID: "x", offset: 0, length: 10, timeMs: 3_200) == .refused(.grantEnded(revoked)))
        guard case .refused(.grantEnded) = try store.beginUpload(recordID: recordID, owner: "bob", sha256: Array(repeating: 1, count: 32), size: 10,
                                                                 receiptSignature: receipt, timeMs: 3_200, source: "s", clientID: "c") else {
            throw TestError("upload announced after revocation")
        }
        #expect(try store.listGrants(user: "bob", atMs: 3_200, limit: 10).isEmpty, "ended grants are not listed")
        #expect(try store.listGrants(user: "alice", atMs: 3_200, limit: 10).isEmpty)
        let bobs = try #require(try store.history(owner: "bob", recordID: nil, limit: 100))
        #expect(bobs.contains { $0.kind == "retrieve_refused" && $0.detail.contains("the grant that shared this record with you ended") })
        let alices = try #require(try store.history(owner: "alice", recordID: nil, limit: 100))
        #expect(alices.contains { $0.kind == "unshare" && $0.detail == "the grant to bob was revoked" })

        // Sharing again makes a new grant.
        guard case .done = try share(store, with: "bob", at: 3_300), case .released = try release(store, "bob", at: 3_400) else {
            throw TestError("a new grant did not work")
        }
    }

    @Test("a share to an unknown user, to oneself, by a non-owner, of a deleted record or ending in the past is refused and audited", arguments: backends)
    func refusals(_ backend: Backend) async throws {
        let store = try await openStore(backend)
        #expect(try share(store, with: "nobody") == .refused(.unknownGrantee))
        #expect(try share(store, with: "alice") == .refused(.shareWithSelf))
        #expect(try share(store, with: "bob", until: 1_999) == .refused(.grantEndsInPast))
        #expect(try share(store, by: "bob", with: "carol") == .notFound(RecordStore.noSuchRecordReason))
        #expect(try store.unshareRecord(recordID: recordID, owner: "bob", grantee: "carol", timeMs: 2_000, source: "s", clientID: "c")
            == .notFound(RecordStore.noSuchRecordReason))
        guard case .notFound(let reason) = try store.unshareRecord(recordID: recordID, owner: "alice", grantee: "carol", timeMs: 2_000, source: "s", clientID: "c") else {
            throw TestError("revoked a grant that does not exist")
        }
        #expect(reason.contains("not shared with carol"))
        let alices = try #require(try store.history(owner: "alice", recordID: nil, limit: 100))
        let refused = alices.filter { $0.kind == "share_refused" }
        #expect(refused.count == 3, "\(refused.map(\.detail))")
        #expect(refused.contains { $0.detail == "share with nobody: no registered user has that name" })
        let bobs = try #require(try store.history(owner: "bob", recordID: nil, limit: 100))
        #expect(bobs.filter { $0.kind == "share_refused" && $0.fileName == nil }.count == 2, "a non-owner's attempt names no file")

        #expect(try store.deleteRecord(recordID: recordID, owner: "alice", receiptSignature: receipt, timeMs: 2_100, source: "s", clientID: "c") == .done)
        #expect(try share(store, with: "bob", at: 2_200) == .refused(.keyDestroyed))
    }

    @Test("a grant ends while the owner or the grantee is locked by an operator, and the grantee may not delete or share", arguments: backends)
    func locksAndOwnerOnly(_ backend: Backend) async throws {
        let store = try await openStore(backend)
        guard case .done = try share(store, with: "bob") else { throw TestError("not shared") }
        _ = try store.setLocked(user: "bob", locked: true, reason: "", operatorName: "op", timeMs: 2_100)
        #expect(try release(store, "bob", at: 2_200) == .refused(.accountLocked))
        _ = try store.setLocked(user: "bob", locked: false, reason: "", operatorName: "op", timeMs: 2_300)
        _ = try store.setLocked(user: "alice", locked: true, reason: "", operatorName: "op", timeMs: 2_400)
        #expect(try release(store, "bob", at: 2_500) == .refused(.accountLocked), "the owner's records are frozen for grantees too")
        _ = try store.setLocked(user: "alice", locked: false, reason: "", operatorName: "op", timeMs: 2_600)
        guard case .released = try release(store, "bob", at: 2_700) else { throw TestError("not released after the unlock") }
        #expect(try store.deleteRecord(recordID: recordID, owner: "bob", receiptSignature: receipt, timeMs: 2_800, source: "s", clientID: "c") == .notFound)
        #expect(try share(store, by: "bob", with: "carol", at: 2_800) == .notFound(RecordStore.noSuchRecordReason))
        let grants = try store.listGrants(user: "bob", atMs: 2_900, limit: 10)
        #expect(grants.count == 1 && grants[0].owner == "alice" && grants[0].grantee == "bob" && grants[0].fileName == "plan.txt" && grants[0].expiresAtMs == nil)
    }

    @Test("a grantee uploads the owner's central copy (counted in the owner's quota) and downloads it", arguments: backends)
    func granteeCentralCopy(_ backend: Backend) async throws {
        let store = try await openStore(backend)
        store.centralQuota = CentralQuota(maxBytes: 100, maxCopies: 10)
        guard case .done = try share(store, with: "bob") else { throw TestError("not shared") }
        let bytes = Array(repeating: UInt8(3), count: 60)
        guard case .ready(let upload, 0) = try store.beginUpload(recordID: recordID, owner: "bob", sha256: ContentDigest.of(bytes), size: 60,
                                                                receiptSignature: receipt, timeMs: 2_100, source: "s", clientID: "c-bob") else {
            throw TestError("upload not ready")
        }
        #expect(try store.putChunk(uploadID: upload, owner: "carol", offset: 0, bytes: bytes) == .notFound, "another user cannot add to it")
        #expect(try store.putChunk(uploadID: upload, owner: "bob", offset: 0, bytes: bytes) == .done(60))
        guard case .done(let copy) = try store.commitUpload(uploadID: upload, owner: "bob", timeMs: 2_200, source: "s", clientID: "c-bob") else {
            throw TestError("not committed")
        }
        #expect(try store.listRecords(owner: "alice", limit: 10).first?.central?.sha256 == copy.sha256, "the owner's record has the copy")
        guard case .done(let opened) = try store.openDownload(recordID: recordID, owner: "bob", timeMs: 2_300, source: "s", clientID: "c-bob") else {
            throw TestError("download refused")
        }
        #expect(try store.readCentral(recordID: recordID, owner: "bob", blobID: opened.blobID, offset: 0, length: 100, timeMs: 2_300) == .done(bytes))
        #expect(try store.listGrants(user: "bob", atMs: 2_400, limit: 10).first?.central?.generation == 1)
        // The quota is the owner's: a second record of alice's cannot take her past it.
        let second = StoredRecord(id: Array(repeating: 2, count: 16), owner: "alice", fileName: "b.txt", sha256: Array(repeating: 9, count: 32), size: 5,
                                  createdAtMs: 1_000, encodeKeyID: Array(repeating: 8, count: 32), wrappedDecodeKey: [1], receipt: [], receiptSignature: [5])
        #expect(try store.createRecord(second, source: "s") != nil)
        guard case .refused(.quotaExceeded) = try store.beginUpload(recordID: second.id, owner: "alice", sha256: ContentDigest.of(bytes), size: 60,
                                                                    receiptSignature: [5], timeMs: 2_500, source: "s", clientID: "c") else {
            throw TestError("the grantee's upload did not count towards the owner's quota")
        }
        let alices = try #require(try store.history(owner: "alice", recordID: nil, limit: 100))
        #expect(alices.contains { $0.kind == "central_upload" && $0.user == "bob" && $0.detail.hasSuffix("under alice's grant") })
        #expect(alices.contains { $0.kind == "central_download" && $0.user == "bob" })
    }
}
