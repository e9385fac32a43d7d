import CofferDevice
import Crypto
import Foundation
import Testing

/// The cryptographic device against a real SoftHSM2 token made for each test in a folder of its own.
@Suite(.serialized) struct TokenTests {
    static let module = "/usr/lib/softhsm/libsofthsm2.so"

    /// The suite's token folder: SoftHSM2 reads SOFTHSM2_CONF and its tokens once, when the module is
    /// initialized, so every token of this process is made first, in one temporary folder (a label
    /// per test).
    static let tokens: String = {
        let directory = NSTemporaryDirectory() + "coffer-softhsm-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: directory + "/tokens", withIntermediateDirectories: true)
        let conf = directory + "/softhsm2.conf"
        try! "directories.tokendir = \(directory)/tokens\nobjectstore.backend = file\nlog.level = ERROR\n".write(toFile: conf, atomically: true, encoding: .utf8)
        setenv("SOFTHSM2_CONF", conf, 1)
        for label in ["coffer-keys", "coffer-import", "coffer-errors", "coffer-pairs", "coffer-signers"] { try! makeToken(label: label) }
        return directory
    }()

    /// A fresh token labelled `label` with user PIN `pin`, made with `softhsm2-util`.
    private static func makeToken(label: String, pin: String = "1234") throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/softhsm2-util")
        process.arguments = ["--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", "12345678"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test("keys made in the token are sensitive and never extractable; their values are refused; GCM and ECDSA work with them")
    func keysStayInside() throws {
        _ = Self.tokens
        let token = try Token(modulePath: Self.module, label: "coffer-keys", pin: Array("1234".utf8))
        try token.generateSecretKey(label: "kek", use: .encryption)
        try token.generateP256SigningKey(label: "signing")
        for (label, kind) in [("kek", Token.ObjectClass.secretKey), ("signing", .privateKey)] {
            #expect(try token.flag(0x103, of: label, kind), "\(label) is sensitive")
            #expect(try !token.flag(0x162, of: label, kind), "\(label) is not extractable")
            #expect(throws: DeviceError.self) { try token.value(of: label, kind) }
        }

        let nonce = Array(repeating: UInt8(7), count: 12)
        let sealed = try token.sealGCM(key: "kek", nonce: nonce, plaintext: Array("decode key".utf8), authenticating: Array("aad".utf8))
        #expect(try token.openGCM(key: "kek", nonce: nonce, sealed: sealed, authenticating: Array("aad".utf8)) == Array("decode key".utf8))
        #expect(throws: DeviceError.self) { try token.openGCM(key: "kek", nonce: nonce, sealed: sealed, authenticating: Array("other".utf8)) }

        let message = Array("receipt".utf8)
        let raw = try token.signECDSA(key: "signing", digest: Array(SHA256.hash(data: message)))
        let publicKey = try P256.Signing.PublicKey(x963Representation: try token.publicPoint(key: "signing"))
        #expect(publicKey.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: raw), for: message))
    }

    @Test("an imported KEK opens what the same key sealed on the host, and its value cannot be read back")
    func importedKey() throws {
        _ = Self.tokens
        let token = try Token(modulePath: Self.module, label: "coffer-import", pin: Array("1234".utf8))
        let kek = SymmetricKey(size: .bits256)
        try token.importSecretKey(label: "kek", use: .encryption, value: kek.withUnsafeBytes { Array($0) })
        let box = try AES.GCM.seal(Array("decode key".utf8), using: kek, authenticating: Array("aad".utf8))
        #expect(try token.openGCM(key: "kek", nonce: Array(box.nonce), sealed: Array(box.ciphertext + box.tag),
                                  authenticating: Array("aad".utf8)) == Array("decode key".utf8))
        #expect(throws: DeviceError.self) { try token.value(of: "kek", .secretKey) }
    }

    @Test("a wrong PIN, a missing token, a missing module and a missing key each fail with a line that names them")
    func setupErrors() throws {
        _ = Self.tokens
        #expect { try Token(modulePath: Self.module, label: "coffer-errors", pin: Array("0000".utf8)) } throws: { error in
            (error as? DeviceError).map { $0.kind == .configuration && $0.description.contains("CKR_PIN_INCORRECT") } ?? false
        }
        #expect { try Token(modulePath: Self.module, label: "no-such-token", pin: Array("1234".utf8)) } throws: { error in
            (error as? DeviceError).map { $0.kind == .configuration && $0.description.contains("no token labelled \"no-such-token\"") } ?? false
        }
        #expect { try Token(modulePath: "/nonexistent/libpkcs11.so", label: "coffer-errors", pin: Array("1234".utf8)) } throws: { error in
            (error as? DeviceError).map { $0.kind == .configuration && $0.description.contains("/nonexistent/libpkcs11.so does not exist") } ?? false
        }
        let token = try Token(modulePath: Self.module, label: "coffer-errors", pin: Array("1234".utf8))
        #expect(try !token.contains("kek", .secretKey))
        #expect { try token.signECDSA(key: "signing", digest: Array(repeating: 0, count: 32)) } throws: { error in
            (error as? DeviceError).map { $0.kind == .configuration && $0.description.contains("no private key labelled \"signing\"") } ?? false
        }
    }

    @Test("a per-file key pair leaves the token only wrapped; unwrapped by the token it is the pair whose public point was given, and another wrapping key does not open it")
    func wrappedPairs() throws {
        _ = Self.tokens
        let token = try Token(modulePath: Self.module, label: "coffer-pairs", pin: Array("1234".utf8))
        try token.generateSecretKey(label: "wrap", use: .wrapping)
        try token.generateSecretKey(label: "other-wrap", use: .wrapping)
        #expect(try !token.flag(0x162, of: "wrap", .secretKey), "the wrapping key is not extractable")
        let pair = try token.makeWrappedP256Pair(wrappingKey: "wrap")
        #expect(pair.publicPoint.count == 65 && pair.wrapped.count > 32)
        let scalar = try token.unwrapP256Scalar(pair.wrapped, wrappingKey: "wrap")
        let key = try P256.KeyAgreement.PrivateKey(rawRepresentation: scalar)
        #expect(Array(key.publicKey.x963Representation) == pair.publicPoint)
        #expect(!pair.wrapped.contains(subsequence: scalar), "the wrapped form does not hold the scalar in the clear")
        #expect(throws: DeviceError.self) { try token.unwrapP256Scalar(pair.wrapped, wrappingKey: "other-wrap") }
        var altered = pair.wrapped
        altered[altered.count / 2] ^= 1
        #expect(throws: DeviceError.self) { try token.unwrapP256Scalar(altered, wrappingKey: "wrap") }
        #expect(try token.missingMechanisms([("CKM_AES_KEY_WRAP_PAD", 0x210A), ("CKM_NONEXISTENT", 0x8000_1234)]) == ["CKM_NONEXISTENT"])
    }

    @Test("imported signing and MAC keys give what the same keys give on the host; made ones verify with their public halves")
    func signersMatchTheHost() throws {
        _ = Self.tokens
        let token = try Token(modulePath: Self.module, label: "coffer-signers", pin: Array("1234".utf8))
        let message = Array("checkpoint\n".utf8)

        let p256 = P256.Signing.PrivateKey()
        try token.importP256SigningKey(label: "signing", scalar: Array(p256.rawRepresentation), publicPoint: Array(p256.publicKey.x963Representation))
        #expect(try token.publicPoint(key: "signing") == Array(p256.publicKey.x963Representation))
        let raw = try token.signECDSA(key: "signing", digest: Array(SHA256.hash(data: message)))
        #expect(p256.publicKey.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: raw), for: message))
        #expect(throws: DeviceError.self) { try token.value(of: "signing", .privateKey) }

        let ed = Curve25519.Signing.PrivateKey()
        try token.importEd25519SigningKey(label: "checkpoint", seed: Array(ed.rawRepresentation), publicKey: Array(ed.publicKey.rawRepresentation))
        #expect(try token.ed25519PublicKey(key: "checkpoint") == Array(ed.publicKey.rawRepresentation))
        #expect(ed.publicKey.isValidSignature(try token.signEd25519(key: "checkpoint", message: message), for: message))
        try token.generateEd25519SigningKey(label: "made-checkpoint")
        let made = try Curve25519.Signing.PublicKey(rawRepresentation: try token.ed25519PublicKey(key: "made-checkpoint"))
        #expect(made.isValidSignature(try token.signEd25519(key: "made-checkpoint", message: message), for: message))

        let macKey = SymmetricKey(size: .bits256)
        try token.importSecretKey(label: "session", use: .mac, value: macKey.withUnsafeBytes { Array($0) })
        #expect(try token.hmacSHA256(key: "session", data: message) == Array(HMAC<SHA256>.authenticationCode(for: message, using: macKey)))
        #expect(throws: DeviceError.self) { try token.value(of: "session", .secretKey) }
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool {
        guard subsequence.count <= count else { return false }
        return (0...(count - subsequence.count)).contains { Array(self[$0..<($0 + subsequence.count)]) == subsequence }
    }
}
