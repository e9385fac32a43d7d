import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files that hold secrets: created 0600, never overwritten, refused when others can read them.
public enum SecretFile {
    /// Reads `path`, refusing a file that its group or others can access.
    public static func read(_ path: String, what: String) throws -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw KeyFileError("cannot read \(what) from \(path): \(String(cString: strerror(errno))); run `coffer-admin init` first")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw KeyFileError("\(path) (\(what)) can be read by others; run `chmod 600 \(path)`")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeyFileError("cannot read \(what) from \(path)")
        }
        return Array(data)
    }

    /// Creates `path` with mode 0600 holding `contents`; fails if it exists.
    public static func create(_ path: String, contents: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw KeyFileError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let written = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == contents.count, fsync(fd) == 0 else {
            throw KeyFileError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// A key file that cannot be read or written, with a sentence for the operator.
public struct KeyFileError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
