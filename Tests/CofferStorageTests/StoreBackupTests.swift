import CofferAudit
import CofferDigest
@testable import CofferStorage
import CofferTesting
import Foundation
import Testing

/// Backups of the embedded store taken while it is written, checked whole, and restored as an
/// audited act that ends every session and never deletes the store it replaces.
@Suite struct StoreBackupTests {
    let recordID = Array(repeating: UInt8(1), count: 16)

    /// A store at FOLDER/coffer.sqlite with alice, her record and its central copy of `bytes`.
    func makeStore(_ bytes: [UInt8]) throws -> (StoreLocation, RecordStore) {
        let folder = try TestEnvironment.makeTemporaryDirectory("backup")
        let location = StoreLocation(folder + "/coffer.sqlite")
        let store = try location.open()
        _ = try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s",
                                   device: DeviceIdentity(clientID: "laptop", publicKey: [1, 2, 3]))
        let record = StoredRecord(id: recordID, owner: "alice", fileName: "a.txt", sha256: Array(repeating: 9, count: 32), size: 5, createdAtMs: 1_000,
                                  encodeKeyID: Array(repeating: 8, count: 32), wrappedDecodeKey: [1, 2, 3], receipt: Array("{}".utf8), receiptSignature: [7, 7, 7])
        #expect(try store.createRecord(record, source: "s") != nil)
        guard case .ready(let upload, _) = try store.beginUpload(recordID: recordID, owner: "alice", sha256: ContentDigest.of(bytes), size: Int64(bytes.count),
                                                                 receiptSignature: [7, 7, 7], timeMs: 10, source: "s", clientID: "c")
        else { throw TestError("the upload did not start") }
        _ = try store.putChunk(uploadID: upload, owner: "alice", offset: 0, bytes: bytes)
        guard case .done = try store.commitUpload(uploadID: upload, owner: "alice", timeMs: 20, source: "s", clientID: "c") else { throw TestError("no commit") }
        return (location, store)
    }

    func random(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255) } }

    @Test("a backup taken while another connection keeps writing is one consistent state: its manifest names its audit head, and it checks whole")
    func consistentWhileWritten() async throws {
        let bytes = random(300_000)
        let (location, _) = try makeStore(bytes)
        let writer = try location.open()
        let stop = TestFlag()
        let writing = Task.detached {
            var n = 0
            while !stop.isSet {
                _ = try writer.registerUser(name: "user\(n)", passwordHash: "h", timeMs: 2, source: "s")
                n += 1
            }
            return n
        }
        try await Task.sleep(for: .milliseconds(50))
        let backup = try TestEnvironment.makeTemporaryDirectory("backup-out") + "/b"
        var steps: [String] = []
        let manifest = try StoreBackup.take(of: location, into: backup, nowMs: { 5_000 }, progress: { steps.append($0) })
        stop.set()
        let written = try await writing.value
        #expect(written > 0, "the writer ran during the backup")
        #expect(!steps.isEmpty, "progress is reported")
        #expect(try StoreBackup.check(backup) == manifest)
        #expect(manifest.records == 1 && manifest.centralCopies == 1 && manifest.centralBytes == Int64(bytes.count) && manifest.takenAtMs == 5_000)

        // The copy's users and audit entries agree: one state, not a mixture.
        let connection = try SQLiteConnection(path: backup + "/" + StoreBackup.databaseFile)
        let copy = try RecordStore(connection: connection)
        let head = try copy.auditTreeHead()
        #expect(head.size == manifest.auditEntries && AuditLeaf.hex(head.root) == manifest.auditRoot)
        let registered = try connection.query("SELECT COUNT(*) FROM audit_log WHERE kind = 'register'", []).first?.int(0)
        #expect(try connection.query("SELECT COUNT(*) FROM users", []).first?.int(0) == registered)
    }

    @Test("a backup folder that is not empty is refused; a missing manifest, a damaged central copy or a damaged log are found by the check")
    func damage() throws {
        let (location, _) = try makeStore(random(10_000))
        let root = try TestEnvironment.makeTemporaryDirectory("backup-damage")
        try FileManager.default.createDirectory(atPath: root + "/full", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: root + "/full/x", contents: Data([1])))
        #expect(throws: StorageError.self) { try StoreBackup.take(of: location, into: root + "/full", nowMs: { 1 }) }
        #expect(throws: StorageError.self) { try StoreBackup.take(of: StoreLocation(root + "/none.sqlite"), into: root + "/b0", nowMs: { 1 }) }
        #expect { try StoreBackup.take(of: StoreLocation("postgresql://coffer@127.0.0.1/coffer"), into: root + "/b1", nowMs: { 1 }) } throws: {
            "\($0)".contains("pg_basebackup")
        }
        #expect { try StoreRestore.restore(from: root + "/b1", to: StoreLocation("postgresql://coffer@127.0.0.1/coffer"), note: "n", operatorName: "op", nowMs: 1) } throws: {
            "\($0)".contains("--in-place")
        }

        let backup = root + "/b"
        _ = try StoreBackup.take(of: location, into: backup, nowMs: { 1 })
        let blobs = try FileManager.default.subpathsOfDirectory(atPath: backup + "/central/blobs").filter { $0.count > 3 }
        let blob = backup + "/central/blobs/" + (try #require(blobs.first))
        var data = try #require(FileManager.default.contents(atPath: blob))
        data[100] ^= 1
        try data.write(to: URL(fileURLWithPath: blob))
        #expect { try StoreBackup.check(backup) } throws: { "\($0)".contains("missing or damaged") }
        data[100] ^= 1
        try data.write(to: URL(fileURLWithPath: blob))
        _ = try StoreBackup.check(backup)

        var manifest = try #require(FileManager.default.contents(atPath: backup + "/manifest.json"))
        let text = String(decoding: manifest, as: UTF8.self).replacingOccurrences(of: "\"auditEntries\" : ", with: "\"auditEntries\" : 9")
        manifest = Data(text.utf8)
        try manifest.write(to: URL(fileURLWithPath: backup + "/manifest.json"))
        #expect { try StoreBackup.check(backup) } throws: { "\($0)".contains("not the one its manifest names") }
        try FileManager.default.removeItem(atPath: backup + "/manifest.json")
        #expect { try StoreBackup.check(backup) } throws: { "\($0)".contains("no manifest.json") }
    }

    @Test("a restore is refused while a database process holds the store; it sets the store replaced aside, appends the restore entry after the backup's entries and ends every session")
    func restore() throws {
        let bytes = random(20_000)
        let (location, store) = try makeStore(bytes)
        let backup = try TestEnvironment.makeTemporaryDirectory("restore") + "/b"
        let manifest = try StoreBackup.take(of: location, into: backup, nowMs: { 7_000 })
        _ = try store.registerUser(name: "bob", passwordHash: "h", timeMs: 8_000, source: "s")
        let before = try store.auditTreeHead().size

        // A backup that does not check whole changes nothing: the store stays, nothing is set aside.
        let damaged = try TestEnvironment.makeTemporaryDirectory("restore-damaged") + "/b"
        try FileManager.default.copyItem(atPath: backup, toPath: damaged)
        try FileManager.default.removeItem(atPath: damaged + "/" + StoreBackup.manifestFile)
        #expect(throws: StorageError.self) { try StoreRestore.restore(from: damaged, to: location, note: "drill", operatorName: "op", nowMs: 8_500) }
        #expect(try location.open().credentials(user: "bob") != nil, "the store in place is untouched")
        #expect(try FileManager.default.contentsOfDirectory(atPath: (location.text as NSString).deletingLastPathComponent).allSatisfy { !$0.contains("replaced-") })

        do {
            let held = try StoreLock(store: location.text, exclusive: false)
            #expect { try StoreRestore.restore(from: backup, to: location, note: "drill", operatorName: "op", nowMs: 9_000) } throws: {
                ($0 as? StorageError)?.code == .locked
            }
            withExtendedLifetime(held) {}
        }

        let outcome = try StoreRestore.restore(from: backup, to: location, note: "drill 1", operatorName: "op", nowMs: 9_000)
        #expect(outcome.restoreIndex == manifest.auditEntries)
        #expect(outcome.detail == RestoreDetail(backupEntries: manifest.auditEntries, backupRoot: manifest.auditRoot, backupTakenMs: 7_000,
                                                lostEntries: before, note: "drill 1"))
        #expect(outcome.sessionsEnded == 1)
        let aside = try #require(outcome.setAside)
        #expect(FileManager.default.fileExists(atPath: aside) && FileManager.default.fileExists(atPath: aside + ".central"), "the store replaced is kept")

        let restored = try location.open()
        #expect(try restored.credentials(user: "bob") == nil, "bob came after the backup")
        let entry = try #require(try restored.auditEntries(from: outcome.restoreIndex, limit: 1).first)
        #expect(entry.kind == "restore" && entry.user == "admin" && entry.source == "op")
        #expect(RestoreDetail(detail: entry.detail) == outcome.detail)
        #expect(try restored.sessionEnded(user: "alice", clientID: "laptop", issuedMs: 8_999), "a session issued before the restore is ended")
        guard case .done(let copy) = try restored.openDownload(recordID: recordID, owner: "alice", timeMs: 10_000, source: "s", clientID: "c") else {
            Issue.record("the central copy did not come back")
            return
        }
        #expect(copy.size == Int64(bytes.count))
        let proofs = try #require(try restored.auditProofs(treeSize: nil, fromSizes: [], indexes: [outcome.restoreIndex], owner: "alice"))
        #expect(proofs.restoreIndexes == [outcome.restoreIndex], "the restore entry is listed, and any user may prove it")
    }

    @Test("marking a store restored in place refuses a lost length shorter than the log, and otherwise appends the entry after the last one")
    func markInPlace() throws {
        let (location, store) = try makeStore(random(1_000))
        let size = try store.auditTreeHead().size
        #expect { try StoreRestore.markRestored(location, lostEntries: size - 1, note: "pitr", operatorName: "op", nowMs: 50) } throws: {
            "\($0)".contains("more than the")
        }
        let outcome = try StoreRestore.markRestored(location, lostEntries: size + 40, note: "pitr", operatorName: "op", nowMs: 50)
        #expect(outcome.restoreIndex == size && outcome.detail.backupEntries == size && outcome.detail.lostEntries == size + 40)
        #expect(outcome.detail.backupTakenMs == 20, "the restored log's newest entry is when its backup ends")
    }
}


/// What the store does for a KEK rotation: it tells wrapped forms apart by their first bytes.
@Suite struct RewrapStoreTests {
    static var stores: [String] { TestEnvironment.postgresURL != nil || TestEnvironment.postgresRequired ? ["sqlite", "postgresql"] : ["sqlite"] }

    @Test("candidates are the keys and staged keys not in the current tag's form; a rewrap replaces only an unchanged key, audits the batch, and the counts follow",
          arguments: stores)
    func rewrap(kind: String) async throws {
        let store = kind == "sqlite"
            ? try RecordStore(connection: SQLiteConnection(path: try TestEnvironment.makeTemporaryDirectory("rewrap") + "/s.sqlite"))
            : try RecordStore(connection: PostgresConnection(url: try await TestEnvironment.makePostgresDatabase()))
        _ = try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s")
        let oldTag = WrappedKeyForm.tag(kekID: Array(repeating: 1, count: 8)), newTag = WrappedKeyForm.tag(kekID: Array(repeating: 2, count: 8))
        func record(_ id: UInt8, wrapped: [UInt8]) -> StoredRecord {
            StoredRecord(id: Array(repeating: id, count: 16), owner: "alice", fileName: "f\(id)", sha256: Array(repeating: 9, count: 32), size: 1, createdAtMs: 1,
                         encodeKeyID: Array(repeating: id, count: 32), wrappedDecodeKey: wrapped, receipt: [1], receiptSignature: [2])
        }
        let untagged = [UInt8](repeating: 7, count: WrappedKeyForm.untaggedLength)
        let underOld = oldTag + [UInt8](repeating: 8, count: 60), underNew = newTag + [UInt8](repeating: 8, count: 60)
        let device = [UInt8(2)] + [UInt8](repeating: 3, count: 68)
        for (id, wrapped) in [(UInt8(1), untagged), (2, underOld), (3, underNew), (4, device)] {
            #expect(try store.createRecord(record(id, wrapped: wrapped), source: "s") != nil)
        }
        #expect(Dictionary(uniqueKeysWithValues: try store.wrappedKeyCounts().map { ($0.form, $0.count) })
                == ["kek-v1": 1, "kek:0101010101010101": 1, "kek:0202020202020202": 1, "device": 1])

        let candidates = try store.rewrapCandidates(currentTag: newTag, after: [], limit: 10)
        #expect(candidates.map { $0.recordID.first } == [1, 2], "the untagged key and the old KEK's, not the current's or the device's")
        #expect(candidates.allSatisfy { $0.pendingWrapped == nil })
        #expect(try store.rewrapCandidates(currentTag: newTag, after: Array(repeating: 1, count: 16), limit: 10).map { $0.recordID.first } == [2])

        let changes = [
            KeyRewrapChange(recordID: Array(repeating: 1, count: 16), oldWrapped: untagged, newWrapped: newTag + [UInt8](repeating: 4, count: 60), oldPending: nil, newPending: nil),
            // Changed since it was listed (a re-seal in between): left alone.
            KeyRewrapChange(recordID: Array(repeating: 2, count: 16), oldWrapped: untagged, newWrapped: newTag + [UInt8](repeating: 5, count: 60), oldPending: nil, newPending: nil),
        ]
        let outcome = try store.rewrapKeys(changes, kekID: "0202020202020202", timeMs: 5, source: "test")
        #expect(outcome.moved == 1)
        let index = try #require(outcome.auditIndex)
        let entry = try #require(try store.auditEntries(from: index, limit: 1).first)
        #expect(entry.kind == "key_rewrap" && entry.detail == "moved 1 decode keys to KEK 0202020202020202")
        #expect(try store.rewrapCandidates(currentTag: newTag, after: [], limit: 10).map { $0.recordID.first } == [2])
        #expect(try store.rewrapKeys([], kekID: "0202020202020202", timeMs: 6, source: "test").auditIndex == nil, "an empty batch is not audited")
    }
}

/// The store's status as `coffer-admin status` shows it.
@Suite struct StoreStatusTests {
    @Test("the status counts the audit log, the newest checkpoint, records and restores, and names replication", arguments: RewrapStoreTests.stores)
    func status(kind: String) async throws {
        let store = kind == "sqlite"
            ? try RecordStore(connection: SQLiteConnection(path: try TestEnvironment.makeTemporaryDirectory("status") + "/s.sqlite"))
            : try RecordStore(connection: PostgresConnection(url: try await TestEnvironment.makePostgresDatabase()))
        _ = try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s")
        let empty = try store.status()
        #expect(empty.auditEntries == 1 && empty.checkpointSize == 0 && empty.checkpointStoredMs == nil && empty.records == 0 && empty.restoreIndexes.isEmpty)
        #expect(kind == "sqlite" ? empty.replication.hasPrefix("none") : empty.replication.hasPrefix("primary"), "\(empty.replication)")
        let detail = RestoreDetail(backupEntries: 1, backupRoot: String(repeating: "0", count: 64), backupTakenMs: 1, lostEntries: nil, note: "t")
        let restored = try store.recordRestore(detail, operatorName: "op", timeMs: 2)
        #expect(try store.status().restoreIndexes == [restored.index])
    }
}
