import CofferFiles
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// An output that was not finished leaves nothing behind, even while something still holds it
/// when the process gives up.
@Suite struct AtomicFileTests {
    func folder() throws -> String {
        let path = NSTemporaryDirectory() + "coffer-atomic-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    @Test("discarding unfinished outputs removes a temporary file that is still held, and spares a committed one")
    func discardsHeldOutputs() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let held = try AtomicFile(target: dir + "/held", replacing: false)
        let done = try AtomicFile(target: dir + "/done", replacing: false)
        try done.commit(replacing: false)
        #expect(FileManager.default.fileExists(atPath: held.temporaryPath))

        AtomicFile.discardUncommitted(in: dir)
        #expect(!FileManager.default.fileExists(atPath: held.temporaryPath), "the held temporary file is removed")
        #expect(FileManager.default.fileExists(atPath: dir + "/done"), "the committed file stays")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["done"])
    }

    @Test("a freed file whose temporary name was discarded does not remove a later file's temporary name")
    func freedAfterDiscard() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var first: AtomicFile? = try AtomicFile(target: dir + "/out", replacing: true)
        let firstPath = first!.temporaryPath
        AtomicFile.discardUncommitted(in: dir)
        // A second writer could be given the same name now; simulate it holding that path.
        let fd = open(firstPath, O_CREAT | O_WRONLY | O_EXCL, 0o600)
        #expect(fd >= 0)
        close(fd)
        first = nil
        #expect(first == nil)
        #expect(FileManager.default.fileExists(atPath: firstPath), "the freed file left the newer file alone")
    }

    @Test("a file freed without a commit removes its temporary name")
    func freedUncommitted() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var file: AtomicFile? = try AtomicFile(target: dir + "/out", replacing: true)
        let path = file!.temporaryPath
        #expect(FileManager.default.fileExists(atPath: path))
        file = nil
        #expect(file == nil)
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
