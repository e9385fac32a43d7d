import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The embedded store of central copies: a content-addressed folder beside the SQLite file.
///
/// `FOLDER/blobs/AB/SHA256HEX` holds a blob, `FOLDER/uploads/ID` an upload in progress. Publishing
/// fsyncs the upload, renames it into `blobs/` and fsyncs both folders, so a blob that exists is
/// complete; an upload's staged length is its file's length. Folders are 0700, files 0600.
public final class FolderBlobStore: BlobStore {
    public let folder: String
    public var kind: String { "folder" }

    /// Creates the folder and its two subfolders when missing.
    public init(folder: String) throws {
        self.folder = folder
        for path in [folder, folder + "/blobs", folder + "/uploads"] {
            if mkdir(path, 0o700) != 0 && errno != EEXIST {
                throw StorageError(.blobs, "cannot create the central-copy folder \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Blob and upload names are ours (hex, `-`), checked anyway: a name never leaves the folder.
    private static func checked(_ name: String) throws -> String {
        guard !name.isEmpty, name.count <= 128, name.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw StorageError(.blobs, "not a blob or upload name: \(name.count) characters")
        }
        return name
    }

    private func uploadPath(_ upload: String) throws -> String { "\(folder)/uploads/\(try Self.checked(upload))" }

    private func blobPath(_ blob: String) throws -> (folder: String, path: String) {
        let name = try Self.checked(blob)
        let shard = "\(folder)/blobs/\(name.prefix(2))"
        return (shard, "\(shard)/\(name)")
    }

    public func stagedLength(upload: String) throws -> Int64 {
        var info = stat()
        guard stat(try uploadPath(upload), &info) == 0 else {
            if errno == ENOENT { return 0 }
            throw Self.failure("read", try uploadPath(upload))
        }
        return Int64(info.st_size)
    }

    public func stage(upload: String, offset: Int64, bytes: [UInt8]) throws {
        let path = try uploadPath(upload)
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.failure("create", path) }
        defer { close(fd) }
        guard ftruncate(fd, off_t(offset)) == 0 else { throw Self.failure("truncate", path) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Self.failure("write", path) }
            done += n
        }
    }

    public func readStaged(upload: String, offset: Int64, length: Int) throws -> [UInt8] {
        try Self.read(path: try uploadPath(upload), offset: offset, length: length) ?? []
    }

    public func publish(upload: String, as blob: String) throws {
        let source = try uploadPath(upload)
        let (shard, target) = try blobPath(blob)
        if mkdir(shard, 0o700) != 0 && errno != EEXIST { throw Self.failure("create", shard) }
        if access(target, F_OK) == 0 {
            unlink(source)
            return
        }
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.failure("open", source) }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced else { throw Self.failure("flush", source) }
        guard rename(source, target) == 0 else { throw Self.failure("move into place", target) }
        try Self.syncFolder(shard)
        try Self.syncFolder("\(folder)/uploads")
    }

    public func discard(upload: String) throws {
        let path = try uploadPath(upload)
        if unlink(path) != 0 && errno != ENOENT { throw Self.failure("remove", path) }
    }

    public func read(blob: String, offset: Int64, length: Int) throws -> [UInt8]? {
        try Self.read(path: try blobPath(blob).path, offset: offset, length: length)
    }

    /// Whether the blob is published.
    func exists(blob: String) -> Bool {
        (try? blobPath(blob)).map { access($0.path, F_OK) == 0 } ?? false
    }

    public func delete(blob: String) throws {
        let (shard, path) = try blobPath(blob)
        if unlink(path) != 0 && errno != ENOENT { throw Self.failure("remove", path) }
        try? Self.syncFolder(shard)
    }

    /// A blob is published (renamed into place) before the commit that names it, so only one old
    /// enough to be past any commit in progress is removed.
    public func removeUnnamed(named: () throws -> Set<String>, publishedAtLeast ageMs: Int64) throws -> Int {
        let before = Date().addingTimeInterval(-Double(ageMs) / 1000)
        let shards = (try? FileManager.default.contentsOfDirectory(atPath: folder + "/blobs")) ?? []
        let old = shards.flatMap { shard in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: "\(folder)/blobs/\(shard)")) ?? []
            return names.filter { name in
                let modified = (try? FileManager.default.attributesOfItem(atPath: "\(folder)/blobs/\(shard)/\(name)"))?[.modificationDate] as? Date
                return modified.map { $0 <= before } ?? false
            }
        }
        let current = try named()
        let unnamed = old.filter { !current.contains($0) }
        for blob in unnamed { try delete(blob: blob) }
        return unnamed.count
    }

    /// Up to `length` bytes from `offset`; `nil` when the file does not exist.
    private static func read(path: String, offset: Int64, length: Int) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw failure("open", path)
        }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, length - done, off_t(offset) + off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw failure("read", path) }
            if n == 0 { break }
            done += n
        }
        bytes.removeLast(length - done)
        return bytes
    }

    private static func syncFolder(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("flush", path) }
    }

    private static func failure(_ what: String, _ path: String) -> StorageError {
        StorageError(.blobs, "cannot \(what) \(path): \(String(cString: strerror(errno)))")
    }
}
