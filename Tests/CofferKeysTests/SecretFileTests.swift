import CofferKeys
import Crypto
import Foundation
import Testing

@Suite struct SecretFileTests {
    @Test("key files are created 0600, never overwritten, and refused when others can read them")
    func permissions() throws {
        let dir = NSTemporaryDirectory() + "coffer-keys-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keys = try ServerKeys.generate(signingKeyFile: dir + "/signing.key.pem", kekFile: dir + "/kek.b64")
        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/kek.b64")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let loaded = try ServerKeys.load(signingKeyFile: dir + "/signing.key.pem", kekFile: dir + "/kek.b64")
        #expect(loaded.signingKey.publicKey.rawRepresentation == keys.signingKey.publicKey.rawRepresentation)
        #expect(throws: KeyFileError.self) { try ServerKeys.generate(signingKeyFile: dir + "/signing.key.pem", kekFile: dir + "/other") }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir + "/kek.b64")
        let error = #expect(throws: KeyFileError.self) { try ServerKeys.load(signingKeyFile: dir + "/signing.key.pem", kekFile: dir + "/kek.b64") }
        #expect(error?.description.contains("chmod 600") == true)
    }
}
