import Crypto
import CryptoExtras
import Foundation

/// Hashes and checks passwords with PBKDF2-HMAC-SHA256 at OWASP's current cost (600,000 rounds).
///
/// Stored form: `pbkdf2-sha256$<rounds>$<salt base64>$<hash base64>`. The work is CPU-bound:
/// callers run it off the event loop.
public struct PasswordHasher: Sendable {
    /// Rounds for new hashes.
    public let rounds: Int

    /// OWASP's 2023+ figure for PBKDF2-HMAC-SHA256.
    public static let owaspRounds = 600_000

    public init(rounds: Int = PasswordHasher.owaspRounds) {
        self.rounds = max(rounds, 210_000)
    }

    /// Hashes `password` with a fresh 16-byte salt.
    public func hash(_ password: String) throws -> String {
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let derived = try derive(password, salt: salt, rounds: rounds)
        return "pbkdf2-sha256$\(rounds)$\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())"
    }

    /// Whether `password` matches `stored`; `false` for any malformed stored value.
    public func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let rounds = Int(parts[1]), rounds >= 210_000, rounds <= 10_000_000,
              let salt = Data(base64Encoded: String(parts[2])), let expected = Data(base64Encoded: String(parts[3])),
              let derived = try? derive(password, salt: Array(salt), rounds: rounds)
        else { return false }
        return ConstantTime.equal(derived, Array(expected))
    }

    /// A well-formed stored value that no password matches, checked against when the user does not
    /// exist: ``verify(_:against:)`` then derives at full cost, so the timing does not tell which names
    /// are registered. Building it costs nothing (no derivation happens here).
    public func dummyHash() -> String {
        let zeros16 = Data(count: 16).base64EncodedString()
        let zeros32 = Data(count: 32).base64EncodedString()
        return "pbkdf2-sha256$\(rounds)$\(zeros16)$\(zeros32)"
    }

    private func derive(_ password: String, salt: [UInt8], rounds: Int) throws -> [UInt8] {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, rounds: rounds
        )
        return key.withUnsafeBytes { Array($0) }
    }
}
