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
        for label in ["coffer-keys", "coffer-import", "coffer-errors"] { try! makeToken(label: label) }
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
        try token.generateAESKey(label: "kek")
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
        try token.importAESKey(label: "kek", value: kek.withUnsafeBytes { Array($0) })
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
            (error as? DeviceError).map { $0.kind == .configuration && $0.description.contains("no privateKey labelled \"signing\"") } ?? false
        }
    }
}
