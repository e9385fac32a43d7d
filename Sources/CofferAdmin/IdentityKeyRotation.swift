public import CofferAPI
import CofferFiles
import CofferKeys
import Crypto
import Foundation

/// The operator's side of an identity key rotation: a new identity key, and the statement by the
/// key in force that names it and the moment it takes over (docs/DEPLOYMENT.md, "Rotating the
/// identity key"). The statement is public; the old key is needed only to make it.
public enum IdentityKeyRotation {
    /// What was made.
    public struct Made: Sendable {
        public let statement: IdentityRotation
        public let statementFile: String
        public let previousFingerprint: String
        public let nextFingerprint: String
    }

    /// Creates `newKeyFile` (mode 0600, never overwritten) and, beside it, `….rotation.json`: the
    /// statement of `currentKeyFile`'s key that the new key takes over at `fromMs`.
    public static func make(currentKeyFile: String, newKeyFile: String, fromMs: Int64) throws -> Made {
        let current = try ServerKeys.loadSigningKey(currentKeyFile)
        let statementFile = (newKeyFile.hasSuffix(".pem") ? String(newKeyFile.dropLast(4)) : newKeyFile)
            .replacingOccurrences(of: ".key", with: "", options: [.anchored, .backwards]) + ".rotation.json"
        guard !FileManager.default.fileExists(atPath: statementFile) else {
            throw IdentityKeyRotationError("\(statementFile) exists already; it is never overwritten")
        }
        let next = try ServerKeys.generateSigningKey(newKeyFile)
        let statement = try IdentityRotation.make(previous: current.publicKey, next: next.publicKey, from: fromMs) { try current.signature(for: $0) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFile.write(Array(try encoder.encode(statement)) + [10], to: statementFile, mode: 0o644)
        return Made(statement: statement, statementFile: statementFile, previousFingerprint: ServerIdentity.fingerprint(of: current.publicKey),
                    nextFingerprint: ServerIdentity.fingerprint(of: next.publicKey))
    }
}

/// Why a rotation's files could not be made.
public struct IdentityKeyRotationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
