import CofferAudit
import CofferDigest
import CofferStorage
import CofferTesting
import Foundation
import Testing

/// Central copies in the store: uploads staged out of sight until committed under their size and
/// SHA-256, resumed from what was staged, replaced with a generation, confirmed re-seals, quotas and
/// deletion — in the folder beside SQLite, in SQLite's table, and in PostgreSQL's.
@Suite struct CentralCopyTests {
    enum Backend: String, CaseIterable, Sendable { case sqliteFolder = "sqlite with a folder", sqliteTable = "sqlite table", postgres }

    static var backends: [Backend] {
        TestEnvironment.postgresURL != nil || TestEnvironment.postgresRequired ? Backend.allCases : [.sqliteFolder, .sqliteTable]
    }

    /// A store with alice's record 1 (receipt [7, 7, 7]) and bob, and the folder of its blobs if it has one.
    func openStore(_ backend: Backend, quota: CentralQuota = CentralQuota()) async throws -> (RecordStore, String?) {
        let store: RecordStore
        var folder: String?
        switch backend {
        case .sqliteFolder:
            let dir = try TestEnvironment.makeTemporaryDirectory("central")
            folder = dir + "/test.sqlite.central"
            store = try RecordStore(connection: SQLiteConnection(path: dir + "/test.sqlite"), blobs: FolderBlobStore(folder: folder!))
        case .sqliteTable:
            let dir = try TestEnvironment.makeTemporaryDirectory("central")
            store = try RecordStore(connection: SQLiteConnection(path: dir + "/test.sqlite"))
        case .postgres:
            store = try RecordStore(connection: PostgresConnection(url: try await TestEnvironment.makePostgresDatabase()))
        }
        store.centralQuota = quota
        _ = try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s")
        _ = try store.registerUser(name: "bob", passwordHash: "h", timeMs: 1, source: "s")
        #expect(try store.createRecord(record("alice"), source: "s") != nil)
        return (store, folder)
    }

    let recordID = Array(repeating: UInt8(1), count: 16)

    func record(_ owner: String, id: UInt8 = 1) -> StoredRecord {
        StoredRecord(id: Array(repeating: id, count: 16), owner: owner, fileName: "a.txt", sha256: Array(repeating: 9, count: 32),
                     size: 5, createdAtMs: 1_000, encodeKeyID: Array(repeating: 8, count: 32), wrappedDecodeKey: [1, 2, 3],
                     receipt: Array("{}".utf8), receiptSignature: [7, 7, 7])
    }

    func begin(_ store: RecordStore, _ bytes: [UInt8], owner: String = "alice", receipt: [UInt8] = [7, 7, 7]) throws -> UploadStart {
        try store.beginUpload(recordID: recordID, owner: owner, sha256: ContentDigest.of(bytes), size: Int64(bytes.count),
                              receiptSignature: receipt, timeMs: 10, source: "s", clientID: "c")
    }

    /// Announces, sends in chunks of `chunk` bytes and commits `bytes`.
    func send(_ store: RecordStore, _ bytes: [UInt8], chunk: Int = 1000, receipt: [UInt8] = [7, 7, 7]) throws -> CentralOutcome<CentralCopy> {
        guard case .ready(let upload, let received) = try begin(store, bytes, receipt: receipt) else { throw TestError("not ready") }
        var offset = Int(received)
        while offset < bytes.count {
            let piece = Array(bytes[offset..<min(offset + chunk, bytes.count)])
            guard case .done(let now) = try store.putChunk(uploadID: upload, owner: "alice", offset: Int64(offset), bytes: piece) else { throw TestError("chunk refused") }
            offset = Int(now)
        }
        return try store.commitUpload(uploadID: upload, owner: "alice", timeMs: 20, source: "s", clientID: "c")
    }

    /// The whole central copy, read back as a download would.
    func download(_ store: RecordStore, owner: String = "alice") throws -> [UInt8]? {
        guard case .done(let copy) = try store.openDownload(recordID: recordID, owner: owner, timeMs: 30, source: "s", clientID: "c") else { return nil }
        var bytes: [UInt8] = []
        while bytes.count < copy.size {
            guard case .done(let piece) = try store.readCentral(recordID: recordID, owner: owner, blobID: copy.blobID, offset: Int64(bytes.count), length: 4096, timeMs: 2),
                  !piece.isEmpty else { return nil }
            bytes += piece
        }
        return bytes
    }

    func kinds(_ store: RecordStore) throws -> [String] {
        try store.history(owner: "alice", recordID: recordID, limit: 100)?.map(\.kind) ?? []
    }

    func random(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255) } }

    @Test("an upload is invisible until committed, then reads back byte for byte and is audited", arguments: backends)
    func uploadAndDownload(backend: Backend) async throws {
        let (store, _) = try await openStore(backend)
        let bytes = random(10_000)
        guard case .ready(let upload, 0) = try begin(store, bytes) else { Issue.record("not ready"); return }
        _ = try store.putChunk(uploadID: upload, owner: "alice", offset: 0, bytes: Array(bytes[0..<4000]))
        #expect(try store.openDownload(recordID: recordID, owner: "alice", timeMs: 11, source: "s", clientID: "c") == .refused(.noCentralCopy))
        let outcome = try send(store, bytes)
        guard case .done(let copy) = outcome else { Issue.record("not committed: \(outcome)"); return }
        #expect(copy.generation == 1 && copy.size == 10_000 && copy.sha256 == ContentDigest.of(bytes))
        #expect(try download(store) == bytes)
        #expect(try store.listRecords(owner: "alice", limit: 10).first?.central?.generation == 1)
        #expect(try kinds(store) == ["save", "central_refused", "central_upload", "central_download"])
    }

    @Test("a stopped upload resumes where it stopped; a commit before the end is refused; bytes that are not the announced ones are dropped", arguments: backends)
    func resumeAndRefuse(backend: Backend) async throws {
        let (store, _) = try await openStore(backend)
        let bytes = random(5_000)
        guard case .ready(let upload, 0) = try begin(store, bytes) else { Issue.record("not ready"); return }
        _ = try store.putChunk(uploadID: upload, owner: "alice", offset: 0, bytes: Array(bytes[0..<3000]))
        #expect(try store.commitUpload(uploadID: upload, owner: "alice", timeMs: 12, source: "s", clientID: "c")
            == .refused(.uploadIncomplete(received: 3000, size: 5000)))
        #expect(try begin(store, bytes) == .ready(uploadID: upload, received: 3000), "announced again, it resumes")
        #expect(try store.putChunk(uploadID: upload, owner: "alice", offset: 4000, bytes: [1]) == .refused(.uploadIncomplete(received: 3000, size: 5000)),
                "a chunk past what was staged")
        #expect(try store.putChunk(uploadID: upload, owner: "bob", offset: 3000, bytes: [1]) == .notFound, "another user's upload")
        // Resending from an earlier offset replaces what followed it.
        _ = try store.putChunk(uploadID: upload, owner: "alice", offset: 2000, bytes: Array(bytes[2000..<5000]))
        guard case .done = try store.commitUpload(uploadID: upload, owner: "alice", timeMs: 13, source: "s", clientID: "c") else {
            Issue.record("the resumed upload was not committed"); return
        }
        #expect(try download(store) == bytes)
        #expect(try store.commitUpload(uploadID: upload, owner: "alice", timeMs: 14, source: "s", clientID: "c") != .notFound,
                "a commit sent again answers the copy it made")

        let other = random(2_000)
        guard case .ready(let second, 0) = try begin(store, other) else { Issue.record("not ready"); return }
        var altered = other
        altered[100] ^= 1
        _ = try store.putChunk(uploadID: second, owner: "alice", offset: 0, bytes: altered)
        #expect(try store.commitUpload(uploadID: second, owner: "alice", timeMs: 15, source: "s", clientID: "c") == .refused(.uploadDigestMismatch))
        #expect(try download(store) == bytes, "the central copy is still the last good one")
        #expect(try begin(store, other) == .ready(uploadID: second, received: 0), "the altered bytes were dropped")
    }

    @Test("a replacement gets the next generation and removes the old bytes; an upload under the staged re-seal's receipt confirms it", arguments: backends)
    func replaceAndConfirm(backend: Backend) async throws {
        let (store, folder) = try await openStore(backend)
        let first = random(3_000)
        guard case .done(let one) = try send(store, first) else { Issue.record("first upload"); return }
        guard case .alreadyCurrent(let current) = try begin(store, first) else { Issue.record("the same bytes again: nothing to send"); return }
        #expect(current.generation == one.generation && current.blobID == one.blobID)

        // A retrieve stages the re-seal [5, 5, 5]; its container replaces the central copy.
        let next = KeyGeneration(wrappedDecodeKey: [4, 4], encodeKeyID: Array(repeating: 3, count: 32), receipt: Array("{}".utf8),
                                 receiptSignature: [5, 5, 5], sha256: Array(repeating: 9, count: 32), size: 5)
        _ = try store.releaseKey(recordID: recordID, owner: "alice", fileName: "a.txt", receiptSignature: [7, 7, 7], timeMs: 40, source: "s", next: next)
        let resealed = random(3_000)
        guard case .done(let two) = try send(store, resealed, receipt: [5, 5, 5]) else { Issue.record("re-sealed upload"); return }
        #expect(two.generation == 2 && two.receiptSignature == [5, 5, 5])
        #expect(try download(store) == resealed)
        #expect(try kinds(store).suffix(5) == ["retrieve", "reseal", "key_destroyed", "central_replace", "central_download"])
        #expect(try store.releaseKey(recordID: recordID, owner: "alice", fileName: "a.txt", receiptSignature: [7, 7, 7], timeMs: 50, source: "s")
            == .refused(.oldCopy), "the old key is destroyed")
        #expect(try begin(store, random(10)) == .refused(.oldCopy), "a container under the old receipt is not taken")
        if let folder {
            let blobs = try FileManager.default.subpathsOfDirectory(atPath: folder + "/blobs").filter { $0.count > 3 }
            #expect(blobs.count == 1, "only the current copy's bytes are kept: \(blobs)")
        }
    }

    @Test("quotas refuse an upload before any byte is sent, audited; only the owner reads or writes a central copy", arguments: backends)
    func quotasAndOwners(backend: Backend) async throws {
        let (store, _) = try await openStore(backend, quota: CentralQuota(maxBytes: 4_000, maxCopies: 1))
        guard case .refused(.quotaExceeded(let why)) = try begin(store, random(5_000)) else { Issue.record("over the byte quota"); return }
        #expect(why.contains("4000"))
        guard case .done = try send(store, random(3_000)) else { Issue.record("within the quota"); return }
        #expect(try store.createRecord(record("alice", id: 2), source: "s") != nil)
        let second = try store.beginUpload(recordID: Array(repeating: 2, count: 16), owner: "alice", sha256: Array(repeating: 1, count: 32), size: 10,
                                           receiptSignature: [7, 7, 7], timeMs: 10, source: "s", clientID: "c")
        guard case .refused(.quotaExceeded) = second else { Issue.record("over the copies quota: \(second)"); return }

        #expect(try begin(store, random(10), owner: "bob") == .notFound)
        #expect(try download(store, owner: "bob") == nil)
        #expect(try store.history(owner: "bob", recordID: nil, limit: 10)?.last?.kind == "central_refused")
        #expect(try store.history(owner: "bob", recordID: nil, limit: 10)?.last?.fileName == nil, "bob learns no name")
    }

    @Test("deleting a record destroys its central copy, audited", arguments: backends)
    func deleteDestroysCopy(backend: Backend) async throws {
        let (store, folder) = try await openStore(backend)
        guard case .done(let copy) = try send(store, random(2_000)) else { Issue.record("upload"); return }
        #expect(try store.deleteRecord(recordID: recordID, owner: "alice", receiptSignature: [7, 7, 7], timeMs: 60, source: "s", clientID: "c") == .done)
        #expect(try store.readCentral(recordID: recordID, owner: "alice", blobID: copy.blobID, offset: 0, length: 10, timeMs: 2) == .notFound)
        #expect(try store.blobs.read(blob: copy.blobID, offset: 0, length: 10) == nil, "the bytes are gone")
        #expect(try kinds(store).suffix(3) == ["delete", "key_destroyed", "central_delete"])
        if let folder {
            #expect(try FileManager.default.subpathsOfDirectory(atPath: folder + "/blobs").filter { $0.count > 3 }.isEmpty)
        }
    }

    @Test("a re-seal confirmed without replacing the central copy drops the copy, audited, rather than keep it under a destroyed key", arguments: backends)
    func staleCopyDropped(backend: Backend) async throws {
        let (store, _) = try await openStore(backend)
        guard case .done(let copy) = try send(store, random(2_000)) else { Issue.record("upload"); return }
        let next = KeyGeneration(wrappedDecodeKey: [4, 4], encodeKeyID: Array(repeating: 3, count: 32), receipt: Array("{}".utf8),
                                 receiptSignature: [5, 5, 5], sha256: Array(repeating: 9, count: 32), size: 5)
        guard case .released(let key) = try store.releaseKey(recordID: recordID, owner: "alice", fileName: "a.txt", receiptSignature: [7, 7, 7],
                                                            timeMs: 40, source: "s", next: next) else { Issue.record("release"); return }
        #expect(key.hasCentral, "the release says the record has a central copy")
        #expect(try store.confirmReseal(recordID: recordID, owner: "alice", receiptSignature: [5, 5, 5], timeMs: 41, source: "s", clientID: "c") == .done)
        #expect(try store.listRecords(owner: "alice", limit: 10).first?.central == nil)
        #expect(try store.blobs.read(blob: copy.blobID, offset: 0, length: 1) == nil, "its bytes are gone")
        #expect(try kinds(store).suffix(3) == ["reseal", "key_destroyed", "central_delete"])
        #expect(try store.history(owner: "alice", recordID: recordID, limit: 100)?.last?.detail.contains("push the re-sealed container") == true)
    }

    @Test("the bytes of a copy a batch let go of stay until the batch commits, and stay for good when it rolls back", arguments: backends)
    func bytesGoAfterCommit(backend: Backend) async throws {
        let (store, _) = try await openStore(backend)
        guard case .done(let copy) = try send(store, random(2_000)) else { Issue.record("upload"); return }
        struct Abort: Error {}
        _ = try? store.transaction {
            _ = try store.deleteRecord(recordID: recordID, owner: "alice", receiptSignature: [7, 7, 7], timeMs: 60, source: "s", clientID: "c")
            #expect(try store.blobs.read(blob: copy.blobID, offset: 0, length: 1) != nil, "kept while the batch is open")
            throw Abort()
        }
        store.keepUnnamedBlobs()
        #expect(try store.blobs.read(blob: copy.blobID, offset: 0, length: 1) != nil, "the rolled-back delete left the bytes")
        #expect(try download(store)?.count == 2_000, "and the copy opens")
        try store.transaction {
            _ = try store.deleteRecord(recordID: recordID, owner: "alice", receiptSignature: [7, 7, 7], timeMs: 61, source: "s", clientID: "c")
        }
        try store.removeUnnamedBlobs()
        #expect(try store.blobs.read(blob: copy.blobID, offset: 0, length: 1) == nil, "gone once the batch committed")
    }
}

extension CentralCopyTests {
    @Test("the sweep removes a published blob no record names (once old enough, for the folder), and keeps named ones", arguments: backends)
    func sweep(_ backend: Backend) async throws {
        let (store, _) = try await openStore(backend)
        let named = Array(repeating: UInt8(5), count: 3_000)
        guard case .done(let copy) = try send(store, named) else { throw TestError("not committed") }
        // A blob published whose naming commit never came (a crash between the two, or a rollback).
        let orphan = Array(repeating: UInt8(6), count: 2_000)
        let upload = AuditLeaf.hex(Array(repeating: 2, count: 16)) + "-" + AuditLeaf.hex(ContentDigest.of(orphan))
        try store.blobs.stage(upload: upload, offset: 0, bytes: orphan)
        let orphanID = AuditLeaf.hex(ContentDigest.of(orphan))
        try store.blobs.publish(upload: upload, as: orphanID)
        if backend == .sqliteFolder {
            #expect(try store.sweepUnnamedBlobs(publishedAtLeast: 3_600_000) == 0, "a fresh file may still be on its way to being named")
            #expect(try store.blobs.read(blob: orphanID, offset: 0, length: 10) != nil)
        }
        #expect(try store.sweepUnnamedBlobs(publishedAtLeast: 0) == 1)
        #expect(try store.blobs.read(blob: orphanID, offset: 0, length: 10) == nil)
        #expect(try store.blobs.read(blob: copy.blobID, offset: 0, length: 10) != nil, "a named blob stays")
        #expect(try store.sweepUnnamedBlobs(publishedAtLeast: 0) == 0)
    }
}

extension CentralCopyTests {
    @Test("a container re-sealed under the staged generation, whose upload failed, opens without destroying the key of the central copy; the next upload confirms",
          arguments: backends)
    func stagedContainerOfARecordWithACentralCopy(_ backend: Backend) async throws {
        let (store, _) = try await openStore(backend)
        let first = Array(repeating: UInt8(7), count: 2_000)
        guard case .done = try send(store, first) else { throw TestError("not committed") }
        // A retrieve staged generation [8, 8]; the client re-sealed its container under it, but its upload failed.
        #expect(try store.stageReseal(recordID: recordID, owner: "alice", wrappedDecodeKey: [4, 4], encodeKeyID: [5], receipt: [6], receiptSignature: [8, 8], timeMs: 20))
        guard case .released(let key) = try store.releaseKey(recordID: recordID, owner: "alice", fileName: "a.txt", receiptSignature: [8, 8], timeMs: 30, source: "s") else {
            throw TestError("the staged container did not open")
        }
        #expect(key.wrappedDecodeKey == [4, 4] && key.encodeKeyID == [5] && key.hasCentral, "the staged key, and the client is told to upload")
        #expect(try store.listRecords(owner: "alice", limit: 10).first?.central != nil, "the central copy stays")
        guard case .released(let current) = try store.releaseKey(recordID: recordID, owner: "alice", fileName: "a.txt", receiptSignature: [7, 7, 7], timeMs: 31, source: "s") else {
            throw TestError("the central copy's key was destroyed")
        }
        #expect(current.wrappedDecodeKey == [1, 2, 3])
        // The fresh re-seal's upload confirms it and replaces the copy.
        #expect(try store.stageReseal(recordID: recordID, owner: "alice", wrappedDecodeKey: [9, 9], encodeKeyID: [10], receipt: [11], receiptSignature: [12, 12], timeMs: 40))
        guard case .done(let replaced) = try send(store, Array(repeating: 8, count: 2_100), receipt: [12, 12]) else { throw TestError("not replaced") }
        #expect(replaced.generation == 2)
        #expect(try store.releaseKey(recordID: recordID, owner: "alice", fileName: "a.txt", receiptSignature: [7, 7, 7], timeMs: 50, source: "s") == .refused(.oldCopy))
    }
}
