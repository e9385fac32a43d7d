import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Reports files in one folder that were written or moved in, using Linux inotify.
///
/// The blocking `poll` runs on a dedicated thread; names arrive on an `AsyncStream`. An event-queue
/// overflow is reported as `nil`, meaning "look at every file".
final class DirectoryWatcher: Sendable {
    let directory: String
    private let fd: Int32
    private let stopping = Atomic<Bool>(false)

    init(directory: String) throws {
        var info = stat()
        guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ClientError(.noInput, "\(directory) is not a folder")
        }
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw ClientError(.ioError, "cannot watch files: \(String(cString: strerror(errno)))") }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)
        guard inotify_add_watch(fd, directory, mask) >= 0 else {
            close(fd)
            throw ClientError(.ioError, "cannot watch \(directory): \(String(cString: strerror(errno)))")
        }
        self.directory = directory
        self.fd = fd
    }

    deinit { close(fd) }

    /// File names as they change; ends when the folder goes away or ``stop()`` is called.
    func events() -> AsyncStream<String?> {
        AsyncStream { continuation in
            let thread = Thread { [self] in
                var buffer = [UInt8](repeating: 0, count: 64 * 1024)
                while !stopping.load(ordering: .relaxed) {
                    var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    guard poll(&pfd, 1, 200) > 0 else { continue }
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    guard n > 0 else { continue }
                    var offset = 0
                    while offset + 16 <= n {
                        let mask = buffer[(offset + 4)..<(offset + 8)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
                        let length = Int(buffer[(offset + 12)..<(offset + 16)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
                        let nameBytes = buffer[(offset + 16)..<min(n, offset + 16 + length)].prefix { $0 != 0 }
                        offset += 16 + length
                        if mask & UInt32(IN_Q_OVERFLOW) != 0 { continuation.yield(nil); continue }
                        if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF) != 0 { continuation.finish(); return }
                        if mask & UInt32(IN_ISDIR) != 0 || nameBytes.isEmpty { continue }
                        continuation.yield(String(decoding: nameBytes, as: UTF8.self))
                    }
                }
                continuation.finish()
            }
            thread.name = "coffer-watch"
            thread.start()
        }
    }

    func stop() { stopping.store(true, ordering: .relaxed) }
}
