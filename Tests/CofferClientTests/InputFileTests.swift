@testable import CofferClient
import Foundation
import Testing

/// The one-pass save seals what it reads as it reads it; a file written to meanwhile is refused.
@Suite struct InputFileTests {
    /// A temporary file holding `contents`, removed after `body`.
    func withFile(_ contents: String, _ body: (String) throws -> Void) throws {
        let path = NSTemporaryDirectory() + "coffer-input-\(UUID().uuidString)"
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    @Test("an input file written to after it was opened reports that it changed; one left alone does not")
    func changeDetected() throws { try withFile("first") { path in
        let file = try InputFile(path: path)
        #expect(!file.changedSinceOpened())
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(" and more".utf8))
        try handle.close()
        #expect(file.changedSinceOpened())
    } }

    @Test("a file rewritten to the same size is still seen to change (its modification time moves)")
    func sameSizeRewriteDetected() throws { try withFile("aaaa") { path in
        let file = try InputFile(path: path)
        var times = [timespec(tv_sec: 1_000, tv_nsec: 0), timespec(tv_sec: 1_000, tv_nsec: 0)]
        // An explicit, different modification time, so the test does not depend on the clock's resolution.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.write(contentsOf: Data("bbbb".utf8))
        try handle.close()
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        #expect(file.changedSinceOpened())
    } }
}
