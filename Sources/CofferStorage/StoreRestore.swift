public import CofferAudit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Restoring a store from a backup: an explicit, audited operator act, never a silent rollback.
///
/// The store restored holds an older log than clients and transaction processes have seen. The
/// restore appends a `restore` entry (``RestoreDetail``) right after the backup's last entry, so
/// that the transaction tier, told to accept it (`accept-restore`), signs across it, and clients
/// tell it from a rewritten history (docs/AUDIT.md, "Restores").
public enum StoreRestore {
    /// What a restore did.
    public struct Outcome: Sendable {
        /// The `restore` entry's index: give it to every transaction process as `accept-restore`.
        public var restoreIndex: Int64
        public var detail: RestoreDetail
        /// How many devices' sessions ended (every user logs in again).
        public var sessionsEnded: Int
        /// Where the store that was replaced was set aside (SQLite), if there was one.
        public var setAside: String?
    }

    /// Replaces the SQLite store at `store` with the backup in `backup`, after checking it whole.
    ///
    /// Refuses while a database process has the store open (``StoreLock``). The store replaced,
    /// with its write-ahead log and central copies, is renamed to `STORE.replaced-TIME`, never
    /// deleted, and its log's length is stated in the restore entry when it can be read.
    public static func restore(from backup: String, to store: StoreLocation, note: String, operatorName: String,
                               nowMs: Int64, progress: (String) -> Void = { _ in }) throws -> Outcome {
        guard !store.isPostgres, store.text != ":memory:", let central = store.centralFolder else {
            throw StorageError(.backup, "a PostgreSQL store is restored with its own tools, then marked with --in-place (docs/DEPLOYMENT.md, Backups)")
        }
        progress("checking the backup in \(backup)")
        let manifest = try StoreBackup.check(backup)
        let lock = try StoreLock(store: store.text, exclusive: true)
        defer { withExtendedLifetime(lock) {} }

        // Everything is copied beside the store first, so that a restore that fails leaves the
        // store in place, and the store is missing only between renames.
        progress("copying the backup beside the store")
        let staged = store.text + ".restoring", stagedCentral = central + ".restoring"
        unlink(staged)
        try? FileManager.default.removeItem(atPath: stagedCentral)
        try SQLiteConnection.backUp(from: backup + "/" + StoreBackup.databaseFile, to: staged)
        try StoreBackup.syncFile(staged)
        let source = try FolderBlobStore(folder: backup + "/" + StoreBackup.centralFolder)
        let target = try FolderBlobStore(folder: stagedCentral)
        let copy = try SQLiteConnection(path: staged, readOnly: true)
        for named in try StoreBackup.namedBlobs(copy) {
            guard try StoreBackup.copyBlob(named, from: source, to: target) else {
                throw StorageError(.backup, "the backup lost a central copy while it was being restored")
            }
        }
        try copy.close()

        var lostEntries: Int64?
        var setAside: String?
        if FileManager.default.fileExists(atPath: store.text) {
            if let old = try? SQLiteConnection(path: store.text, readOnly: true) {
                lostEntries = try? StoreBackup.auditHead(old).size
                try? old.close()
            }
            let aside = "\(store.text).replaced-\(nowMs)"
            progress("setting the current store aside as \(aside)")
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: store.text + suffix) {
                guard rename(store.text + suffix, aside + suffix) == 0 else { throw StoreBackup.failure("set aside", store.text + suffix) }
            }
            if FileManager.default.fileExists(atPath: central) {
                guard rename(central, aside + ".central") == 0 else { throw StoreBackup.failure("set aside", central) }
            }
            setAside = aside
        }
        guard rename(staged, store.text) == 0 else { throw StoreBackup.failure("move into place", store.text) }
        guard rename(stagedCentral, central) == 0 else { throw StoreBackup.failure("move into place", central) }
        let folder = URL(fileURLWithPath: store.text).deletingLastPathComponent().path
        try StoreBackup.syncFile(folder)

        let detail = RestoreDetail(backupEntries: manifest.auditEntries, backupRoot: manifest.auditRoot, backupTakenMs: manifest.takenAtMs,
                                   lostEntries: lostEntries, note: note)
        let opened = try store.open()
        let recorded = try opened.recordRestore(detail, operatorName: operatorName, timeMs: nowMs)
        return Outcome(restoreIndex: recorded.index, detail: detail, sessionsEnded: recorded.sessionsEnded, setAside: setAside)
    }

    /// Marks a store that was restored by other means (PostgreSQL's point-in-time recovery, or a
    /// file copied back by hand) as restored: appends the `restore` entry after its last entry.
    ///
    /// Refuses while another session is connected to the PostgreSQL database, or a process
    /// holds the SQLite store's lock: every database process must be stopped.
    public static func markRestored(_ store: StoreLocation, lostEntries: Int64?, note: String, operatorName: String, nowMs: Int64) throws -> Outcome {
        let lock = store.isPostgres ? nil : try StoreLock(store: store.text, exclusive: true)
        defer { withExtendedLifetime(lock) {} }
        let opened = try store.open()
        if store.isPostgres {
            let others = try opened.db.query(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'", []
            ).first?.int(0) ?? 0
            guard others == 0 else {
                throw StorageError(.locked, "\(others) other sessions are connected to the database: stop every coffer-database using it first")
            }
        }
        let head = try StoreBackup.auditHead(opened.db)
        if let lostEntries, lostEntries < head.size {
            throw StorageError(.backup, "the log holds \(head.size) entries, more than the \(lostEntries) said to be there before the restore")
        }
        let detail = RestoreDetail(backupEntries: head.size, backupRoot: AuditLeaf.hex(head.root),
                                   backupTakenMs: try opened.newestAuditTimeMs() ?? nowMs, lostEntries: lostEntries, note: note)
        let recorded = try opened.recordRestore(detail, operatorName: operatorName, timeMs: nowMs)
        return Outcome(restoreIndex: recorded.index, detail: detail, sessionsEnded: recorded.sessionsEnded, setAside: nil)
    }
}
