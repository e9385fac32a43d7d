import CofferAPI
import Crypto
import Foundation
import Testing

/// The identity key vouches for the checkpoint key; a client accepts nothing else.
@Suite struct AuditKeyStatementTests {
    static func answer(vkey: String, signedBy key: P256.Signing.PrivateKey, over message: String? = nil) throws -> AuditCheckpointResponse {
        let signed = message.map { Array($0.utf8) } ?? AuditKeyStatement.message(verifierKey: vkey)
        return AuditCheckpointResponse(checkpoint: "", verifierKey: vkey, verifierKeySignature: try key.signature(for: signed).derRepresentation.base64EncodedString())
    }

    @Test func theIdentityKeysStatementIsAccepted() throws {
        let identity = P256.Signing.PrivateKey()
        #expect(AuditKeyStatement.isValid(try Self.answer(vkey: "coffer/audit+01020304+AQ==", signedBy: identity), identityKey: identity.publicKey))
    }

    @Test func anotherKeyAnotherVerifierKeyOrGarbageIsRefused() throws {
        let identity = P256.Signing.PrivateKey()
        let other = P256.Signing.PrivateKey()
        #expect(!AuditKeyStatement.isValid(try Self.answer(vkey: "a+01020304+AQ==", signedBy: other), identityKey: identity.publicKey))
        var swapped = try Self.answer(vkey: "a+01020304+AQ==", signedBy: identity)
        swapped.verifierKey = "b+01020304+AQ=="
        #expect(!AuditKeyStatement.isValid(swapped, identityKey: identity.publicKey), "the signature covers the verifier key")
        #expect(!AuditKeyStatement.isValid(try Self.answer(vkey: "a+01020304+AQ==", signedBy: identity, over: "a+01020304+AQ==\n"), identityKey: identity.publicKey), "the domain line is required")
        var garbage = try Self.answer(vkey: "a+01020304+AQ==", signedBy: identity)
        garbage.verifierKeySignature = "not base64!"
        #expect(!AuditKeyStatement.isValid(garbage, identityKey: identity.publicKey))
    }
}
