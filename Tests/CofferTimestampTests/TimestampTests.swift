import CofferTesting
import CofferTimestamp
import Crypto
import Foundation
import Synchronization
import Testing

@Suite(.serialized) struct TimestampTests {
    struct Setup {
        let authority: TimestampAuthority
        let certificates: TestCertificates
        let key: P256.Signing.PrivateKey
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
        return Setup(authority: authority, certificates: certificates, key: key)
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

    @Test("a key kept elsewhere signs through the external signer: its tokens verify; a signer that fails passes its error on; a certificate for another key is refused; a wrong signature does not verify")
    func externalSigner() async throws {
        let setup = try await setUp()
        let chain = try String(contentsOfFile: setup.certificates.tsaCertificate, encoding: .utf8)
        let ca = try String(contentsOfFile: setup.certificates.caCertificate, encoding: .utf8)
        let key = setup.key
        let calls = Mutex(0)
        let point = Array(key.publicKey.x963Representation)
        let authority = try TimestampAuthority(certificateChainPEM: chain, publicKeyX963: point) { digest in
            calls.withLock { $0 += 1 }
            return Array(try key.signature(for: PrecomputedDigest(digest)).rawRepresentation)
        }
        let digest = Array(SHA256.hash(data: Array("the receipt".utf8)))
        let token = try authority.stamp(sha256: digest)
        _ = try TimestampVerifier.verify(token: token, sha256: digest, caPEM: ca)
        #expect(calls.withLock { $0 } == 1)

        struct DeviceGone: Error, CustomStringConvertible { var description: String { "the device is gone" } }
        let failing = try TimestampAuthority(certificateChainPEM: chain, publicKeyX963: point) { _ in throw DeviceGone() }
        #expect(throws: DeviceGone.self) { try failing.stamp(sha256: digest) }
        let other = P256.Signing.PrivateKey()
        #expect(throws: TimestampError.self) {
            try TimestampAuthority(certificateChainPEM: chain, publicKeyX963: Array(other.publicKey.x963Representation)) { _ in [] }
        }
        let wrongKey = try TimestampAuthority(certificateChainPEM: chain, publicKeyX963: point) { digest in Array(try other.signature(for: PrecomputedDigest(digest)).rawRepresentation) }
        let forged = try wrongKey.stamp(sha256: digest)
        #expect(throws: TimestampError.self) { try TimestampVerifier.verify(token: forged, sha256: digest, caPEM: ca) }
    }
}

/// A SHA-256 digest computed elsewhere, for signing as a digest (as a device signs).
struct PrecomputedDigest: Digest {
    static var byteCount: Int { 32 }
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try bytes.withUnsafeBytes(body) }
    func makeIterator() -> IndexingIterator<[UInt8]> { bytes.makeIterator() }
    var description: String { "precomputed SHA-256" }
}
