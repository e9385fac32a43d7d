import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An output file written under a temporary name in the target's folder and moved into place only
/// when complete, so a failure or a kill never leaves a partial file at the target path.
///
/// The temporary name carries the writer's process id (`.NAME.coffer-tmp-PID-XXXXXX`); the next
/// output to the same target removes the leftovers of writers that were killed. A long NAME is
/// shortened in the temporary name, so that any final name the file system accepts can be written.
final class AtomicOutput {
    let target: String
    let temporaryPath: String
    let fd: Int32
    private var committed = false

    /// Creates the temporary file (mode 0600). Fails early if `target` exists and `force` is off.
    init(target: String, force: Bool) throws {
        if !force && FileManager.default.fileExists(atPath: target) {
            throw ClientError(.cannotCreate, "\(target) already exists; use --force to replace it, or -o to write elsewhere")
        }
        let url = URL(fileURLWithPath: target)
        let folder = url.deletingLastPathComponent().path
        let limit = Self.nameLimit(folder: folder)
        guard url.lastPathComponent.utf8.count <= limit else {
            throw ClientError(.cannotCreate, "cannot create \(target): its name is \(url.lastPathComponent.utf8.count) bytes, longer than the \(limit) the file system allows; choose a shorter one with -o")
        }
        let stem = Self.temporaryStem(url.lastPathComponent, limit: limit)
        Self.removeLeftovers(folder: folder, stem: stem)
        var template = Array("\(folder)/.\(stem).coffer-tmp-\(getpid())-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw ClientError(.cannotCreate, "cannot create a file in \(folder): \(String(cString: strerror(errno)))")
        }
        fchmod(fd, 0o600)
        self.fd = fd
        self.target = target
        self.temporaryPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Flushes to disk and moves the file into place.
    func commit(force: Bool) throws {
        guard fsync(fd) == 0 else {
            throw ClientError(.ioError, "cannot flush \(temporaryPath): \(String(cString: strerror(errno)))")
        }
        close(fd)
        if force {
            guard rename(temporaryPath, target) == 0 else {
                throw ClientError(.cannotCreate, "cannot move the output into place at \(target): \(String(cString: strerror(errno)))")
            }
        } else {
            // link() refuses to replace a file that appeared meanwhile; rename() would not.
            guard link(temporaryPath, target) == 0 else {
                let reason = errno == EEXIST ? "it appeared while working; use --force to replace it" : String(cString: strerror(errno))
                throw ClientError(.cannotCreate, "cannot create \(target): \(reason)")
            }
            unlink(temporaryPath)
        }
        committed = true
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
            unlink(temporaryPath)
        }
    }
}
