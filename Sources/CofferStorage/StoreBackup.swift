import CofferAudit
import CofferDigest
import CofferFiles
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A backup of an embedded store, taken while the database tier runs: a folder holding a
/// consistent copy of the SQLite file (SQLite's online backup API), the central copies that copy
/// names, and a manifest written last, so that a folder with a manifest is a whole backup.
///
/// ```
/// BACKUP/coffer.sqlite          the store as of one transaction
/// BACKUP/central/blobs/AB/…     every central copy it names, each checked against its SHA-256
/// BACKUP/manifest.json          Manifest: when, the schema, the audit log's size and root
/// ```
///
/// PostgreSQL is backed up with its own tools (`pg_basebackup` and WAL archiving,
/// docs/DEPLOYMENT.md, "Backups"); a store restored by them is marked with ``StoreRestore/markRestored``.
public enum StoreBackup {
    /// What a backup holds, written last.
    public struct Manifest: Codable, Sendable, Equatable {
        /// The backup folder's format: 1.
        public var format: Int
        /// When the copy was taken, Unix milliseconds.
        public var takenAtMs: Int64
        /// The store's schema version.
        public var schemaVersion: Int
        /// The audit log's entries in the copy.
        public var auditEntries: Int64
        /// The audit log's Merkle root in the copy, lowercase hex.
        public var auditRoot: String
        /// Records in the copy.
        public var records: Int64
        /// Central copies in the copy, and their bytes.
        public var centralCopies: Int
        public var centralBytes: Int64
    }

    public static let databaseFile = "coffer.sqlite"
    public static let centralFolder = "central"
    public static let manifestFile = "manifest.json"
    /// How often a central copy replaced while the backup runs makes it take the copy again.
    static let attempts = 5

    /// Backs up the SQLite store at `store` into `folder`, which must be new or empty; reports
    /// each step through `progress`.
    ///
    /// The SQLite copy is one read transaction, so it is consistent whatever the tier does
    /// meanwhile. A central copy it names that was replaced before its bytes were read makes it
    /// take the copy again (blobs already copied are kept: they are named by their SHA-256).
    public static func take(of store: StoreLocation, into folder: String, nowMs: () -> Int64,
                            progress: (String) -> Void = { _ in }) throws -> Manifest {
        guard !store.isPostgres else {
            throw StorageError(.backup, "a PostgreSQL store is backed up with pg_basebackup and WAL archiving (docs/DEPLOYMENT.md, Backups)")
        }
        guard store.text != ":memory:", FileManager.default.fileExists(atPath: store.text) else {
            throw StorageError(.backup, "there is no SQLite store at \(store.text)")
        }
        try makeEmptyFolder(folder)
        let copyPath = folder + "/" + databaseFile
        let blobs = try FolderBlobStore(folder: folder + "/" + centralFolder)
        let source = try store.centralFolder.map { try FolderBlobStore(folder: $0) }
        for attempt in 1...attempts {
            let partial = copyPath + ".partial"
            unlink(partial)
            progress("copying the SQLite store (attempt \(attempt))")
            let taken = nowMs()
            try SQLiteConnection.backUp(from: store.text, to: partial)
            let copy = try SQLiteConnection(path: partial)
            let named = try namedBlobs(copy)
            progress("copying \(named.count) central copies")
            var missing = false
            for (index, blob) in named.enumerated() where !blobs.exists(blob: blob.blob) {
                guard let source, try copyBlob(blob, from: source, to: blobs) else {
                    missing = true
                    break
                }
                if (index + 1) % 100 == 0 { progress("copied \(index + 1) of \(named.count) central copies") }
            }
            if missing {
                progress("a central copy was replaced while it was being copied; taking the copy again")
                continue
            }
            let head = try auditHead(copy)
            let manifest = Manifest(
                format: 1, takenAtMs: taken, schemaVersion: try Migrations.currentVersion(copy) ?? 0, auditEntries: head.size,
                auditRoot: AuditLeaf.hex(head.root), records: try copy.query("SELECT COUNT(*) FROM records", []).first?.int(0) ?? 0,
                centralCopies: named.count, centralBytes: named.reduce(0) { $0 + $1.size }
            )
            try copy.close()
            try syncFile(partial)
            guard rename(partial, copyPath) == 0 else { throw failure("move into place", copyPath) }
            try writeManifest(manifest, in: folder)
            return manifest
        }
        throw StorageError(.backup, "central copies kept being replaced while they were copied (\(attempts) attempts); try again when the store is quieter")
    }

    /// Reads and checks the backup in `folder`: its manifest, the SQLite file's integrity, its
    /// audit log's size and root against the manifest's, and every central copy it names
    /// against its SHA-256.
    public static func check(_ folder: String) throws -> Manifest {
        let manifestPath = folder + "/" + manifestFile
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw StorageError(.backup, "\(folder) holds no \(manifestFile): it is not a backup, or its taking did not finish")
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw StorageError(.backup, "\(manifestPath) is not a backup manifest: \(error)")
        }
        guard manifest.format == 1 else { throw StorageError(.backup, "backup format \(manifest.format) is not supported") }
        let path = folder + "/" + databaseFile
        guard FileManager.default.fileExists(atPath: path) else { throw StorageError(.backup, "\(path) is missing") }
        let copy = try SQLiteConnection(path: path, readOnly: true)
        let integrity = try copy.query("PRAGMA integrity_check", []).compactMap { try? $0.text(0) }
        guard integrity == ["ok"] else {
            throw StorageError(.backup, "\(path) is damaged: \(integrity.prefix(3).joined(separator: "; "))")
        }
        let head = try auditHead(copy)
        guard head.size == manifest.auditEntries, AuditLeaf.hex(head.root) == manifest.auditRoot else {
            throw StorageError(.backup, "the backup's audit log (\(head.size) entries) is not the one its manifest names (\(manifest.auditEntries))")
        }
        let blobs = try FolderBlobStore(folder: folder + "/" + centralFolder)
        for named in try namedBlobs(copy) {
            var digest = ContentDigest()
            guard try readWhole(named, from: blobs, { digest.update($0) }), digest.finalize() == named.sha256 else {
                throw StorageError(.backup, "the backup's central copy \(named.blob) is missing or damaged")
            }
        }
        return manifest
    }

    /// A central copy's blob as a store's `central_copies` names it.
    struct NamedBlob {
        let blob: String
        let sha256: [UInt8]
        let size: Int64
    }

    /// Every blob the store in `db` names.
    static func namedBlobs(_ db: any SQLConnection) throws -> [NamedBlob] {
        try db.query("SELECT blob_id, sha256, size FROM central_copies", []).map {
            NamedBlob(blob: try $0.text(0), sha256: try $0.blob(1), size: try $0.int(2))
        }
    }

    /// Hands `blob`'s bytes to `body` in pieces of at most 1 MiB; `false` when it is missing or shorter.
    static func readWhole(_ blob: NamedBlob, from store: FolderBlobStore, _ body: ([UInt8]) throws -> Void) throws -> Bool {
        var offset: Int64 = 0
        while offset < blob.size {
            guard let piece = try store.read(blob: blob.blob, offset: offset, length: Int(min(blob.size - offset, 1 << 20))), !piece.isEmpty else { return false }
            try body(piece)
            offset += Int64(piece.count)
        }
        return true
    }

    /// The audit log's size and root in a store, read without touching its schema.
    static func auditHead(_ db: any SQLConnection) throws -> (size: Int64, root: [UInt8]) {
        let log = AuditLog(db)
        let size = try log.size()
        return (size, try log.tree.rootHash(size: size))
    }

    /// Copies one blob, checking its bytes against its SHA-256; `false` when the source no longer has it.
    static func copyBlob(_ named: NamedBlob, from source: FolderBlobStore, to target: FolderBlobStore) throws -> Bool {
        let upload = "bac0-" + named.blob  // hex and `-`, as upload names must be
        try target.discard(upload: upload)
        var digest = ContentDigest()
        var offset: Int64 = 0
        guard try readWhole(named, from: source, { piece in
            digest.update(piece)
            try target.stage(upload: upload, offset: offset, bytes: piece)
            offset += Int64(piece.count)
        }) else {
            try target.discard(upload: upload)
            return false
        }
        guard digest.finalize() == named.sha256 else {
            try target.discard(upload: upload)
            // Replaced by other bytes under the same name cannot happen (names are SHA-256): damaged.
            throw StorageError(.backup, "the store's central copy \(named.blob) does not have the SHA-256 it is named by: it is damaged")
        }
        try target.publish(upload: upload, as: named.blob)
        return true
    }

    static func writeManifest(_ manifest: Manifest, in folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try AtomicFile.write(Array(try encoder.encode(manifest)) + [10], to: folder + "/" + manifestFile, mode: 0o600)
        } catch let error as FileWriteError {
            throw StorageError(.backup, error.description)
        }
    }

    /// Creates `folder` (0700) or accepts an empty one.
    static func makeEmptyFolder(_ folder: String) throws {
        if mkdir(folder, 0o700) != 0 {
            guard errno == EEXIST else { throw failure("create", folder) }
            let entries = try FileManager.default.contentsOfDirectory(atPath: folder)
            guard entries.isEmpty else { throw StorageError(.backup, "\(folder) is not empty; back up into a new or empty folder") }
        }
    }

    static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("flush", path) }
    }

    static func failure(_ what: String, _ path: String) -> StorageError {
        StorageError(.backup, "cannot \(what) \(path): \(String(cString: strerror(errno)))")
    }
}
