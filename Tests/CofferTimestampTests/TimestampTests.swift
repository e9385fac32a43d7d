import CofferTesting
import CofferTimestamp
import Crypto
import Foundation
import Testing

@Suite(.serialized) struct TimestampTests {
    struct Setup {
        let authority: TimestampAuthority
        let certificates: TestCertificates
    }

    func setUp(tsaExtensions: String? = nil) async throws -> Setup {
        let directory = try TestEnvironment.makeTemporaryDirectory("tsa")
        let key = P256.Signing.PrivateKey()
        try key.pemRepresentation.write(toFile: directory + "/tsa.key", atomically: true, encoding: .utf8)
        let certificates = if let tsaExtensions {
            try await TestCertificates.make(in: directory, tsaKey: directory + "/tsa.key", tsaExtensions: tsaExtensions)
        } else {
            try await TestCertificates.make(in: directory, tsaKey: directory + "/tsa.key")
        }
        let authority = try TimestampAuthority(
            certificateChainPEM: try String(contentsOfFile: certificates.tsaCertificate, encoding: .utf8),
            keyPEM: key.pemRepresentation
        )
        return Setup(authority: authority, certificates: certificates)
    }

    @Test("a token verifies against the CA for its digest and carries the current time")
    func stampAndVerify() async throws {
        let setup = try await setUp()
        let digest = Array(SHA256.hash(data: Array("the receipt".utf8)))
        let token = try setup.authority.stamp(sha256: digest)
        let ca = try String(contentsOfFile: setup.certificates.caCertificate, encoding: .utf8)
        let time = try TimestampVerifier.verify(token: token, sha256: digest, caPEM: ca)
        #expect(abs(time - Int64(Date().timeIntervalSince1970 * 1000)) < 60_000)
        #expect(throws: TimestampError.self) { try TimestampVerifier.verify(token: token, sha256: Array(repeating: 0, count: 32), caPEM: ca) }
        var altered = token
        altered[altered.count / 2] ^= 1
        #expect(throws: TimestampError.self) { try TimestampVerifier.verify(token: altered, sha256: digest, caPEM: ca) }
        #expect(throws: TimestampError.self) { try TimestampVerifier.verify(token: Array(token.prefix(100)), sha256: digest, caPEM: ca) }
    }

    @Test("a token does not verify against another CA")
    func otherCA() async throws {
        let setup = try await setUp()
        let other = try await TestCertificates.make(in: try TestEnvironment.makeTemporaryDirectory("other-ca"))
        let digest = Array(SHA256.hash(data: [1, 2, 3]))
        let token = try setup.authority.stamp(sha256: digest)
        #expect(throws: TimestampError.self) {
            try TimestampVerifier.verify(token: token, sha256: digest, caPEM: try String(contentsOfFile: other.caCertificate, encoding: .utf8))
        }
    }

    @Test("serial numbers differ between tokens")
    func serials() async throws {
        let setup = try await setUp()
        let digest = Array(SHA256.hash(data: [9]))
        #expect(try setup.authority.stamp(sha256: digest) != setup.authority.stamp(sha256: digest))
    }

    @Test("openssl ts -verify accepts the token for the data and rejects altered data")
    func opensslAccepts() async throws {
        let setup = try await setUp()
        let dir = setup.certificates.directory
        let data = Array("coffer receipt v1\nsome canonical bytes".utf8)
        try Data(data).write(to: URL(fileURLWithPath: dir + "/receipt.dat"))
        try Data(try setup.authority.stamp(sha256: Array(SHA256.hash(data: data)))).write(to: URL(fileURLWithPath: dir + "/receipt.tst"))
        let output = try await TestCertificates.openssl(["ts", "-verify", "-data", dir + "/receipt.dat", "-in", dir + "/receipt.tst", "-token_in", "-CAfile", setup.certificates.caCertificate], in: dir)
        #expect(output.contains("Verification: OK"))
        try Data(data + [0x21]).write(to: URL(fileURLWithPath: dir + "/receipt.dat"))
        await #expect(throws: TestError.self) {
            try await TestCertificates.openssl(["ts", "-verify", "-data", dir + "/receipt.dat", "-in", dir + "/receipt.tst", "-token_in", "-CAfile", setup.certificates.caCertificate], in: dir)
        }
    }

    @Test("a certificate without the timeStamping purpose is refused at set-up")
    func wrongPurpose() async throws {
        let error = await #expect(throws: TimestampError.self) {
            try await setUp(tsaExtensions: "extendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n")
        }
        #expect(error?.description.contains("purpose") == true)
    }

    @Test("a key that does not match the certificate is refused at set-up")
    func mismatchedKey() async throws {
        let setup = try await setUp()
        #expect(throws: TimestampError.self) {
            try TimestampAuthority(certificateChainPEM: try String(contentsOfFile: setup.certificates.tsaCertificate, encoding: .utf8),
                                   keyPEM: P256.Signing.PrivateKey().pemRepresentation)
        }
    }
}
