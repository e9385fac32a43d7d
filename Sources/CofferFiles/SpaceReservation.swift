#if canImport(Glibc)
import Glibc
#endif

/// Linux fallocate(2), which the Glibc module does not export (it is a GNU extension); the C
/// signature is `int fallocate(int fd, int mode, off_t offset, off_t len)`, with a 64-bit `off_t`.
@_silgen_name("fallocate")
private func linuxFallocate(_ fd: Int32, _ mode: Int32, _ offset: Int64, _ length: Int64) -> Int32

/// FALLOC_FL_KEEP_SIZE: allocate without changing the file's size, so that the file never shows
/// bytes that were not written.
private let keepSize: Int32 = 0x01

extension AtomicFile {
    /// Allocates the first `bytes` of the file before it is written, when the file system can (its
    /// size stays what was written): a full disk then fails here, before anything was read or asked.
    /// It is not a speed-up: on this machine's tmpfs it bought nothing beyond the noise
    /// (docs/PERFORMANCE.md). A file system without fallocate (or a size of 0) reserves nothing and
    /// is not an error.
    ///
    /// - Throws: ``FileWriteError/Kind/io`` when the file system has no room for `bytes`.
    public func reserve(_ bytes: Int64) throws {
        guard bytes > 0 else { return }
        while linuxFallocate(fd, keepSize, 0, bytes) != 0 {
            switch errno {
            case EINTR: continue
            case ENOSPC, EFBIG, EDQUOT:
                throw FileWriteError(.io, "there is no room for the \(bytes) bytes of \(target) on its file system (\(String(cString: strerror(errno))))")
            default:
                // EOPNOTSUPP and the like: write without a reservation.
                return
            }
        }
    }
}
