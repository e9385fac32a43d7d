import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An advisory lock beside a SQLite store (`FILE.lock`): each database process holds it shared
/// while it runs, and a restore holds it exclusively, so that a store is never replaced under a
/// process that still has it open.
public final class StoreLock: Sendable {
    private let descriptor: Int32
    /// The lock file's path.
    public let path: String

    /// Takes the lock of the SQLite store at `store`: shared, or `exclusive`; never waits.
    ///
    /// - Throws: ``StorageError/Code/locked`` when it is held the other way.
    public init(store: String, exclusive: Bool) throws {
        path = store + ".lock"
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StorageError(.connection, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            close(descriptor)
            throw StorageError(busy ? .locked : .connection, busy
                ? (exclusive ? "a database process has the store \(store) open (\(path) is held): stop every coffer-database using it first"
                             : "the store \(store) is being restored (\(path) is held exclusively)")
                : "cannot lock \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(descriptor) }
}
