import CofferFiles
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// An output file's space is allocated before it is written, without changing its size, and a
/// reservation the file system has no room for fails at once with a clear message.
@Suite struct SpaceReservationTests {
    func temporaryTarget() -> String {
        NSTemporaryDirectory() + "coffer-reserve-\(UUID().uuidString)"
    }

    @Test("a reservation allocates the bytes but leaves the file's size at what was written")
    func allocatesWithoutGrowing() throws {
        let file = try AtomicFile(target: temporaryTarget(), replacing: false)
        defer { unlink(file.temporaryPath) }
        try file.reserve(1 << 20)
        var info = stat()
        #expect(fstat(file.fd, &info) == 0)
        #expect(info.st_size == 0, "the size is what was written")
        #expect(Int64(info.st_blocks) * 512 >= 1 << 20, "the space is allocated")
        try file.reserve(0)
    }

    @Test("a reservation the file system has no room for fails with the size and the path")
    func noRoom() throws {
        let target = temporaryTarget()
        let file = try AtomicFile(target: target, replacing: false)
        defer { unlink(file.temporaryPath) }
        #expect {
            try file.reserve(1 << 58)
        } throws: { error in
            guard let error = error as? FileWriteError else { return false }
            return error.kind == .io && error.description.contains("no room") && error.description.contains(target)
        }
    }
}
