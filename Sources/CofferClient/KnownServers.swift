import CofferAPI
public import Crypto
import Foundation

/// The server identity keys this client has pinned, one `SERVER FINGERPRINT` line per server in
/// `known_servers`, the way ssh keeps `known_hosts`.
public struct KnownServers: Sendable {
    public let path: String

    public init(directory: String) { self.path = directory + "/known_servers" }

    /// Accepts `key` for `server` if it is the pinned key, or pins it on first contact.
    ///
    /// - Parameters:
    ///   - expected: A fingerprint given up front (`--server-key`); the key must match it.
    /// - Returns: Whether the key was pinned just now.
    /// - Throws: ``ClientError`` `.notPermitted` when the key differs from the pinned or expected one.
    public func check(_ key: P256.Signing.PublicKey, for server: ServerAddress, expected: String?) throws -> Bool {
        let fingerprint = ServerIdentity.fingerprint(of: key)
        if let expected, expected.lowercased() != fingerprint {
            throw ClientError(.notPermitted, "the key service at \(server) presented identity key \(fingerprint), not the \(expected) you gave; refusing to continue")
        }
        let lines = (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        for (number, line) in lines.enumerated() {
            let fields = line.split(separator: " ")
            guard fields.count == 2, fields[0] == server.description else { continue }
            if fields[1] == fingerprint { return false }
            throw ClientError(.notPermitted, """
                WARNING: THE KEY SERVICE'S IDENTITY KEY HAS CHANGED. Someone may be impersonating \(server). \
                It presented \(fingerprint) but \(fields[1]) is pinned in \(path) line \(number + 1). \
                Nothing was sent. If the operator confirms a key rotation, delete that line and try again.
                """)
        }
        let line = "\(server.description) \(fingerprint)\n"
        guard let handle = FileHandle(forWritingAtPath: path) ?? {
            FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644]) ? FileHandle(forWritingAtPath: path) : nil
        }() else {
            throw ClientError(.cannotCreate, "cannot write \(path)")
        }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data(line.utf8))
        return true
    }
}
