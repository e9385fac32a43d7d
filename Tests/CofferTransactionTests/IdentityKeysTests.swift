import CofferAPI
import CofferKeys
import CofferTesting
import CofferTimestamp
import CofferTransaction
import Crypto
import Foundation
import Testing

/// The identity keys a transaction process starts with: the key in force, and a rotation's next one
/// from its moment on; what does not belong together is refused at start.
@Suite struct IdentityKeysTests {
    struct Setup {
        let directory: String
        let backend: FileKeyBackend
        let timestamps: TimestampAuthority
        let current: P256.Signing.PrivateKey
    }

    func setup() async throws -> Setup {
        let keys = ServerKeys(signingKey: P256.Signing.PrivateKey(), kek: SymmetricKey(size: .bits256))
        let directory = try TestEnvironment.makeTemporaryDirectory("identity-keys")
        try keys.signingKey.pemRepresentation.write(toFile: directory + "/signing.key.pem", atomically: true, encoding: .utf8)
        let certificates = try await TestCertificates.make(in: directory, tsaKey: directory + "/signing.key.pem")
        let timestamps = try TimestampAuthority(certificateChainPEM: try String(contentsOfFile: certificates.tsaCertificate, encoding: .utf8),
                                                keyPEM: keys.signingKey.pemRepresentation)
        return Setup(directory: directory, backend: FileKeyBackend(keys: keys, checkpointKeyFile: "unused"), timestamps: timestamps, current: keys.signingKey)
    }

    func write(_ statement: IdentityRotation, to path: String) throws {
        try JSONEncoder().encode(statement).write(to: URL(fileURLWithPath: path))
    }

    @Test("earlier statements are served oldest first whatever order they are given in, and one that does not lead to the key in force is refused")
    func earlierRotations() async throws {
        let s = try await setup()
        let first = P256.Signing.PrivateKey(), second = P256.Signing.PrivateKey()
        let older = try IdentityRotation.make(previous: first.publicKey, next: second.publicKey, from: 1) { try first.signature(for: $0) }
        let newer = try IdentityRotation.make(previous: second.publicKey, next: s.current.publicKey, from: 2) { try second.signature(for: $0) }
        try write(newer, to: s.directory + "/newer.json")
        try write(older, to: s.directory + "/older.json")
        var settings = TransactionTierConfiguration.Keys()
        settings.identityRotationFiles = [s.directory + "/newer.json", s.directory + "/older.json"]
        let identity = try IdentityKeys.load(backend: s.backend, timestamps: s.timestamps, settings: settings)
        #expect(identity.active().rotations == [older, newer])
        settings.identityRotationFiles = [s.directory + "/older.json"]
        let gap = #expect(throws: TransactionTierError.self) { try IdentityKeys.load(backend: s.backend, timestamps: s.timestamps, settings: settings) }
        #expect(gap?.description.contains("do not lead") == true)
    }

    @Test("signing-key-next with the keys in a token is refused at start, before any key is read")
    func nextKeyWithDevice() async throws {
        let s = try await setup()
        var settings = TransactionTierConfiguration.Keys()
        settings.device = TransactionTierConfiguration.Device(modulePath: "/nonexistent/libpkcs11.so")
        var next = TransactionTierConfiguration.NextIdentity(signingKeyFile: s.directory + "/missing.key.pem")
        next.tsaCertificateFile = s.directory + "/missing.crt"
        next.statementFile = s.directory + "/missing.json"
        settings.nextIdentity = next
        let refused = #expect(throws: TransactionTierError.self) { try IdentityKeys.load(backend: s.backend, timestamps: s.timestamps, settings: settings) }
        #expect(refused?.description.contains("a token's identity key is not rotated") == true)
    }
}
