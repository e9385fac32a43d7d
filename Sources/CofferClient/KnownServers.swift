public import CofferAPI
import CofferFiles
public import Crypto
import Foundation

/// The server identity keys this client has pinned, one `SERVER FINGERPRINT` line per server in
/// `known_servers`, the way ssh keeps `known_hosts`.
///
/// An identity rotation moves the pin: a key the pinned one vouched for (``IdentityRotation``) is
/// pinned in its place, and the retired key is kept on a `SERVER FINGERPRINT retired FROM_MS` line,
/// taken for a few minutes past its rotation's moment only (processes whose clocks lag), never after.
public struct KnownServers: Sendable {
    public let path: String

    /// How a presented key stood against the pin.
    public enum Outcome: Sendable, Equatable {
        /// The pinned key.
        case known
        /// First contact: the key was pinned just now.
        case pinned
        /// A rotation: the pinned key vouched for this one (through these statements), now pinned instead.
        case rotated(from: String, path: [IdentityRotation])
        /// The key this client's pin retired moments ago, still presented by a process whose clock lags.
        case retired
    }

    public init(directory: String) { self.path = directory + "/known_servers" }

    /// Accepts `key` for `server` if it is the pinned key, if the pinned key vouched for it through
    /// `rotations`, or pins it on first contact.
    ///
    /// - Parameters:
    ///   - expected: A fingerprint given up front (`--server-key`); the key must match it.
    ///   - rotations: The statements the server gave with the key.
    ///   - nowMs: The time to judge the statements and retired keys at (default: now).
    /// - Throws: ``ClientError`` `.notPermitted` when the key differs from the pinned or expected one
    ///   and no statement of the pinned key leads to it.
    public func check(_ key: P256.Signing.PublicKey, for server: ServerAddress, expected: String?,
                      rotations: [IdentityRotation] = [], nowMs: Int64? = nil) throws -> Outcome {
        let nowMs = nowMs ?? Int64(Date().timeIntervalSince1970 * 1000)
        let fingerprint = ServerIdentity.fingerprint(of: key)
        if let expected, expected.lowercased() != fingerprint {
            throw ClientError(.notPermitted, "the key service at \(server) presented identity key \(fingerprint), not the \(expected) you gave; refusing to continue")
        }
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let (number, pinned) = lines.enumerated().lazy.compactMap({ entry -> (Int, String)? in
            let fields = entry.element.split(separator: " ")
            return fields.count == 2 && fields[0] == server.description ? (entry.offset, String(fields[1])) : nil
        }).first else {
            try append("\(server.description) \(fingerprint)\n")
            return .pinned
        }
        if pinned == fingerprint { return .known }
        // A key this pin retired, within the clock skew past the moment its successor took over.
        let retiredAt = lines.compactMap { line -> Int64? in
            let fields = line.split(separator: " ")
            guard fields.count == 4, fields[0] == server.description, fields[1] == fingerprint, fields[2] == "retired" else { return nil }
            return Int64(fields[3])
        }.max()
        if let retiredAt, nowMs < retiredAt + RequestSignature.maxClockSkewMs { return .retired }
        if let path = IdentityRotation.path(from: pinned, to: fingerprint, through: rotations, inForceBy: nowMs) {
            var kept = lines
            kept[number] = "\(server.description) \(fingerprint)"
            if kept.last == "" { kept.removeLast() }
            kept += path.map { "\(server.description) \($0.previous) retired \($0.statement.from)" }
            try write(kept.joined(separator: "\n") + "\n")
            return .rotated(from: pinned, path: path.map(\.statement))
        }
        let hint = retiredAt != nil
            ? "It is a key this client saw retired by a rotation; a process still presenting it is not to be trusted."
            : "If the operator confirms a key rotation, delete that line and try again."
        throw ClientError(.notPermitted, """
            WARNING: THE KEY SERVICE'S IDENTITY KEY HAS CHANGED. Someone may be impersonating \(server). \
            It presented \(fingerprint) but \(pinned) is pinned in \(path) line \(number + 1), and no statement signed by the pinned key vouches for it. \
            Nothing was sent. \(hint)
            """)
    }

    /// Adds a line at the end, as concurrent clients' first pins may.
    private func append(_ line: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) ?? {
            FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644]) ? FileHandle(forWritingAtPath: path) : nil
        }() else {
            throw ClientError(.cannotCreate, "cannot write \(path)")
        }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data(line.utf8))
    }

    /// Replaces the file whole, so that a crash leaves the old pins or the new ones.
    private func write(_ text: String) throws {
        do {
            try AtomicFile.write(Array(text.utf8), to: path, mode: 0o644)
        } catch {
            throw ClientError(.cannotCreate, "cannot write \(path): \(error)")
        }
    }
}
