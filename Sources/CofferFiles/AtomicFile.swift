public import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A file written under a temporary name in its target's folder and moved into place only when
/// complete and flushed to disk, so that a failure or a kill never leaves a partial file at the
/// target path: write a temporary file, fsync, rename (or link), fsync the folder — written once here.
///
/// The temporary name carries the writer's process id (`.NAME.coffer-tmp-PID-XXXXXX`); the next
/// write to the same target removes the leftovers of writers that were killed. A long NAME is
/// shortened in the temporary name, so that any final name the file system accepts can be written.
///
/// A file neither committed nor released is removed when it is freed; a process that exits while
/// something still holds one (a writer thread with a queued write) calls ``discardUncommitted()``.
public final class AtomicFile {
    /// The temporary paths of this process's files not yet committed or freed.
    private static let uncommitted = Mutex<Set<String>>([])

    public let target: String
    public let temporaryPath: String
    /// The temporary file, open for writing.
    public let fd: Int32
    private var committed = false

    /// Creates the temporary file with `mode`. Fails early when `target` exists and `replacing` is off.
    public init(target: String, replacing: Bool, mode: mode_t = 0o600) throws {
        if !replacing && FileManager.default.fileExists(atPath: target) {
            throw FileWriteError(.exists, "\(target) already exists; use --force to replace it, or -o to write elsewhere")
        }
        let url = URL(fileURLWithPath: target)
        let folder = url.deletingLastPathComponent().path
        let limit = Self.nameLimit(folder: folder)
        guard url.lastPathComponent.utf8.count <= limit else {
            throw FileWriteError(.cannotCreate, "cannot create \(target): its name is \(url.lastPathComponent.utf8.count) bytes, longer than the \(limit) the file system allows; choose a shorter one with -o")
        }
        let stem = Self.temporaryStem(url.lastPathComponent, limit: limit)
        Self.removeLeftovers(folder: folder, stem: stem)
        var template = Array("\(folder)/.\(stem).coffer-tmp-\(getpid())-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw FileWriteError(.cannotCreate, "cannot create a file in \(folder): \(String(cString: strerror(errno)))")
        }
        fchmod(fd, mode)
        self.fd = fd
        self.target = target
        self.temporaryPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        Self.uncommitted.withLock { _ = $0.insert(temporaryPath) }
    }

    /// Removes the temporary file of every output of this process that was not committed, whoever
    /// still holds it: for a process about to exit on an error. With `folder`, only those in it.
    public static func discardUncommitted(in folder: String? = nil) {
        let paths = uncommitted.withLock { paths in
            let chosen = paths.filter { folder == nil || URL(fileURLWithPath: $0).deletingLastPathComponent().path == folder }
            paths.subtract(chosen)
            return chosen
        }
        for path in paths {
            unlink(path)
        }
    }

    /// Writes `bytes` to `path` atomically: the old contents or the new, never a mix.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let file = try AtomicFile(target: path, replacing: true, mode: mode)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(file.fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw FileWriteError(.io, "cannot write \(path): \(String(cString: strerror(errno)))") }
            done += n
        }
        try file.commit(replacing: true)
    }

    /// Flushes to disk and moves the file into place. Without `replacing`, refuses a target that
    /// appeared meanwhile (link() fails on an existing name; rename() would replace it).
    public func commit(replacing: Bool) throws {
        guard fsync(fd) == 0 else {
            throw FileWriteError(.io, "cannot flush \(temporaryPath): \(String(cString: strerror(errno)))")
        }
        close(fd)
        if replacing {
            guard rename(temporaryPath, target) == 0 else {
                throw FileWriteError(.cannotCreate, "cannot move the output into place at \(target): \(String(cString: strerror(errno)))")
            }
        } else {
            guard link(temporaryPath, target) == 0 else {
                let reason = errno == EEXIST ? "it appeared while working; use --force to replace it" : String(cString: strerror(errno))
                throw FileWriteError(.cannotCreate, "cannot create \(target): \(reason)")
            }
            unlink(temporaryPath)
        }
        committed = true
        Self.uncommitted.withLock { _ = $0.remove(temporaryPath) }
        let folder = URL(fileURLWithPath: target).deletingLastPathComponent().path
        let dirfd = open(folder, O_RDONLY | O_DIRECTORY)
        if dirfd >= 0 {
            fsync(dirfd)
            close(dirfd)
        }
    }

    /// The longest file name in `folder`, in bytes (255 where the file system does not say).
    static func nameLimit(folder: String) -> Int {
        let limit = pathconf(folder, Int32(_PC_NAME_MAX))
        return limit > 0 ? limit : 255
    }

    /// `name`, cut at a character boundary so that `.STEM.coffer-tmp-PID-XXXXXX` fits in `limit`
    /// bytes whatever the process id.
    static func temporaryStem(_ name: String, limit: Int) -> String {
        let room = limit - ".".utf8.count - ".coffer-tmp-".utf8.count - 10 - "-XXXXXX".utf8.count
        guard name.utf8.count > room else { return name }
        var stem = ""
        for character in name {
            guard stem.utf8.count + character.utf8.count <= room else { break }
            stem.append(character)
        }
        return stem
    }

    /// Removes temporary files of the output named `stem` (see ``temporaryStem(_:limit:)``) left by
    /// writers that no longer run.
    static func removeLeftovers(folder: String, stem: String) {
        let prefix = ".\(stem).coffer-tmp-"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            let rest = entry.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = pid_t(rest[..<dash]), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink("\(folder)/\(entry)") }
        }
    }

    deinit {
        if !committed {
            close(fd)
            // Only a path still listed is this file's: discardUncommitted() may have removed it, and
            // another writer may hold the name since.
            if Self.uncommitted.withLock({ $0.remove(temporaryPath) }) != nil {
                unlink(temporaryPath)
            }
        }
    }
}

/// A file that could not be written, with a sentence for the user.
public struct FileWriteError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public enum Kind: Sendable { case exists, cannotCreate, io }
    public let kind: Kind
    public let description: String
    init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
