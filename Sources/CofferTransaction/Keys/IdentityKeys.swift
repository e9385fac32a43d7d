public import CofferAPI
import CofferKeys
public import CofferTimestamp
public import Crypto
import Foundation

/// The identity and receipt signing key in force, and during a rotation the key that takes over at
/// the moment its statement names: from then on the process proves its identity, time-stamps
/// receipts and vouches for the checkpoint key with the next key, and serves the statements that
/// lead clients from the keys they pinned to it (docs/DEPLOYMENT.md, "Rotating the identity key").
///
/// Every process of a deployment given the same statement switches at the same moment, so a rolling
/// restart that spreads the next key over the fleet never has two processes presenting different keys
/// (clock skew aside, which clients allow for).
public struct IdentityKeys: Sendable {
    /// One identity key: its public half, how it signs, and its time-stamping authority.
    public struct Signer: Sendable {
        public let publicKey: P256.Signing.PublicKey
        /// ECDSA P-256 over SHA-256 of a message, where the key is kept.
        let sign: @Sendable ([UInt8]) throws -> P256.Signing.ECDSASignature
        public let timestamps: TimestampAuthority
        /// The rotations that lead from earlier keys to this one, oldest first.
        public let rotations: [IdentityRotation]
    }

    public let current: Signer
    /// The key of a scheduled rotation and when it takes over (Unix ms).
    public let next: (signer: Signer, from: Int64)?

    init(current: Signer, next: (signer: Signer, from: Int64)?) {
        self.current = current
        self.next = next
    }

    /// The key that signs at `nowMs`.
    public func active(nowMs: Int64) -> Signer {
        if let next, nowMs >= next.from { return next.signer }
        return current
    }

    /// The key that signs now.
    public func active() -> Signer { active(nowMs: Clock.nowMs()) }

    /// Signs `message` with the key in force now, where the backend's calls belong.
    func sign(_ message: [UInt8], keys: any KeyBackend) async throws -> P256.Signing.ECDSASignature {
        let signer = active()
        return try await keys.perform { try signer.sign(message) }
    }

    /// The backend's key with `timestamps` and the statements of `settings.identityRotationFiles`;
    /// with `settings.nextIdentity`, also the key that takes over, its certificate and its statement,
    /// all checked to belong together.
    public static func load(backend: any KeyBackend, timestamps: TimestampAuthority, settings: TransactionTierConfiguration.Keys) throws -> IdentityKeys {
        let earlier = try settings.identityRotationFiles.map { try readStatement($0) }
        let current = Signer(publicKey: backend.signingPublicKey, sign: { try backend.sign($0) }, timestamps: timestamps,
                             rotations: try chain(to: ServerIdentity.fingerprint(of: backend.signingPublicKey), earlier))
        guard let next = settings.nextIdentity else { return IdentityKeys(current: current, next: nil) }
        guard settings.device == nil else {
            throw TransactionTierError("signing-key-next works with key files; a token's identity key is not rotated by this process yet")
        }
        guard !next.tsaCertificateFile.isEmpty, !next.statementFile.isEmpty else {
            throw TransactionTierError("signing-key-next needs tsa-cert-next and identity-rotation-next")
        }
        let key = try ServerKeys.loadSigningKey(next.signingKeyFile)
        let statement = try readStatement(next.statementFile)
        guard let step = statement.verified, step.previous == ServerIdentity.fingerprint(of: backend.signingPublicKey),
              step.next == ServerIdentity.fingerprint(of: key.publicKey)
        else {
            throw TransactionTierError("\(next.statementFile) is not the statement of signing-key's key naming signing-key-next's key; make it with `coffer-admin keys new-identity-key`")
        }
        let nextTimestamps: TimestampAuthority
        do {
            nextTimestamps = try TimestampAuthority(certificateChainPEM: try String(contentsOfFile: next.tsaCertificateFile, encoding: .utf8),
                                                    keyPEM: key.pemRepresentation)
        } catch {
            throw TransactionTierError("cannot use the time-stamping certificate \(next.tsaCertificateFile) (tsa-cert-next) for signing-key-next: \(error); it must be issued for that key with extendedKeyUsage=critical,timeStamping")
        }
        let signer = Signer(publicKey: key.publicKey, sign: { try key.signature(for: $0) }, timestamps: nextTimestamps,
                            rotations: current.rotations + [statement])
        return IdentityKeys(current: current, next: (signer, statement.from))
    }

    /// `statements` in the order that leads, one after another, to the key fingerprinted `key`:
    /// every one must verify and be on that path.
    private static func chain(to key: String, _ statements: [IdentityRotation]) throws -> [IdentityRotation] {
        guard !statements.isEmpty else { return [] }
        let steps = statements.compactMap(\.verified)
        guard steps.count == statements.count else { throw TransactionTierError("a statement given as identity-rotation does not verify under the key it retires") }
        // The path starts at the one key that no statement hands over to.
        let path = steps.first { step in !steps.contains { $0.next == step.previous } }
            .flatMap { IdentityRotation.path(from: $0.previous, to: key, through: statements, inForceBy: nil) }
        guard let path, path.count == statements.count else {
            throw TransactionTierError("the identity-rotation statements do not lead, one after another, to the identity key in force (signing-key)")
        }
        return path.map(\.statement)
    }

    private static func readStatement(_ file: String) throws -> IdentityRotation {
        do {
            return try JSONDecoder().decode(IdentityRotation.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            throw TransactionTierError("\(file) does not hold an identity rotation statement: \(error)")
        }
    }
}
