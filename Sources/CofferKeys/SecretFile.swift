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

    /// Reads a cryptographic device's user PIN from `path` (mode 0600), without a trailing newline.
    public static func readPIN(_ path: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw KeyFileError("the token PIN file \(path) does not exist; write the token's user PIN to it, mode 0600")
        }
        var pin = try read(path, what: "the token PIN")
        while let last = pin.last, last == 10 || last == 13 || last == 32 { pin.removeLast() }
        guard !pin.isEmpty else { throw KeyFileError("\(path) is empty; it holds the token's user PIN") }
        return pin
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
