import CofferContainer
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An open regular file to read.
///
/// The file is opened without blocking and its type checked on the open descriptor before anything
/// is read: a named pipe would otherwise block the open until a writer came, and a path swapped
/// between a check and the open cannot slip through. A FIFO, a socket, a device or a folder is
/// refused with exit 66.
final class InputFile {
    let fd: Int32
    let size: Int64
    /// The modification time when it was opened, to tell whether it changed while it was read.
    private let modified: timespec

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else {
            let error = errno
            // A Unix socket cannot be opened at all: say what it is rather than "no such device".
            if error == ENXIO || error == EOPNOTSUPP, let kind = Self.kind(path: path) {
                throw ClientError(.noInput, "\(path) is \(kind), not a regular file")
            }
            throw ClientError(.noInput, "cannot open \(path): \(String(cString: strerror(error)))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = errno
            close(fd)
            throw ClientError(.noInput, "cannot read \(path): \(String(cString: strerror(error)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw ClientError(.noInput, "\(path) is \(Self.describe(mode: info.st_mode)), not a regular file")
        }
        // Reads block as usual from here on; a regular file never waits anyway.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        self.fd = fd
        self.size = Int64(info.st_size)
        self.modified = info.st_mtim
    }

    /// Whether the file's size or modification time differs from when it was opened: it was
    /// written to while it was read, so what was read may be a mix of its old and new content.
    func changedSinceOpened() -> Bool {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return true }
        return Int64(info.st_size) != size || info.st_mtim.tv_sec != modified.tv_sec || info.st_mtim.tv_nsec != modified.tv_nsec
    }

    deinit { close(fd) }

    /// What kind of file `path` is, when `stat` can tell.
    private static func kind(path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return describe(mode: info.st_mode)
    }

    /// A file type in words.
    static func describe(mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a folder"
        case S_IFIFO: "a named pipe (FIFO)"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFLNK: "a symbolic link"
        default: "not a regular file"
        }
    }
}

/// A source that hands what passes through it to a ``ParallelHasher``.
struct HashingSource<Base: ByteSource>: ByteSource {
    var base: Base
    let hasher = ParallelHasher()

    init(_ base: Base) { self.base = base }

    mutating func read(upTo count: Int) throws -> [UInt8] {
        let bytes = try base.read(upTo: count)
        if !bytes.isEmpty { hasher.update(bytes) }
        return bytes
    }
}
