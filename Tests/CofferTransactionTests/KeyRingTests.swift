@testable import CofferTransaction
import CofferKeys
import Crypto
import Foundation
import Testing

/// The file backend's KEKs during a rotation: tagged keys name their KEK, untagged ones of earlier
/// releases still open, keys move to the current KEK, and sessions under another KEK stay valid.
@Suite struct KeyRingTests {
    let old = SymmetricKey(size: .bits256)
    let new = SymmetricKey(size: .bits256)
    let record = Array(repeating: UInt8(5), count: 16)

    func backend(kek: SymmetricKey, unwrapOnly: [SymmetricKey] = []) -> FileKeyBackend {
        FileKeyBackend(keys: ServerKeys(signingKey: P256.Signing.PrivateKey(), kek: kek), unwrapOnly: unwrapOnly, checkpointKeyFile: "/nonexistent")
    }

    @Test("a key is wrapped in the tagged form of the current KEK and opens under a backend that has that KEK, current or unwrap-only")
    func tagged() throws {
        let made = try backend(kek: old).makeDecodeKey(recordID: record, owner: "alice")
        #expect(made.wrapped.count == KeyWrapper.taggedLength && made.wrapped[0] == 3 && Array(made.wrapped[1..<9]) == ServerKeys.kekID(old))
        for keys in [backend(kek: old), backend(kek: new, unwrapOnly: [old]), backend(kek: old, unwrapOnly: [new])] {
            #expect(try keys.releaseDecodeKey(made.wrapped, recordID: record, owner: "alice", encodeKeyID: made.encodeKeyID).publicKey.rawRepresentation
                    == made.encodeKey.rawRepresentation)
        }
        #expect { try backend(kek: new).releaseDecodeKey(made.wrapped, recordID: record, owner: "alice", encodeKeyID: made.encodeKeyID) } throws: {
            "\($0)".contains("a KEK this process does not have") && "\($0)".contains(ServerKeys.kekIDText(old))
        }
    }

    @Test("an untagged key of an earlier release opens under whichever KEK wrapped it, and moves to the current one")
    func untagged() throws {
        let key = P256.KeyAgreement.PrivateKey()
        let id = KeyWrapper.keyID(key.publicKey)
        let sealed = try AES.GCM.seal(key.rawRepresentation, using: old, authenticating: KeyWrapper.associatedData(version: 1, record, id, "alice"))
        let combined = try #require(sealed.combined)
        let untagged = Array(combined)
        #expect(untagged.count == KeyWrapper.wrappedLength)
        let rotating = backend(kek: new, unwrapOnly: [old])
        #expect(try rotating.releaseDecodeKey(untagged, recordID: record, owner: "alice", encodeKeyID: id).rawRepresentation == key.rawRepresentation)
        let moved = try #require(try rotating.rewrap(untagged, recordID: record, owner: "alice", encodeKeyID: id))
        #expect(Array(moved.prefix(9)) == [3] + ServerKeys.kekID(new))
        #expect(try backend(kek: new).releaseDecodeKey(moved, recordID: record, owner: "alice", encodeKeyID: id).rawRepresentation == key.rawRepresentation)
        #expect(try rotating.rewrap(moved, recordID: record, owner: "alice", encodeKeyID: id) == nil, "a key under the current KEK stays")
        #expect(throws: DecodeKeyMismatch.self) { try rotating.rewrap(untagged, recordID: record, owner: "bob", encodeKeyID: id) }
    }

    @Test("a session issued under another KEK of the rotation stays valid; one under a KEK the process lacks does not")
    func sessions() throws {
        let session = Session(user: "alice", clientID: "c", deviceKey: P256.Signing.PrivateKey().publicKey)
        let before = try SessionTokens(kek: old).issue(for: session).token
        let rotating = backend(kek: new, unwrapOnly: [old])
        let tokens = SessionTokens(mac: { try rotating.sessionMAC($0) }, otherMACs: { try rotating.otherSessionMACs($0) })
        #expect(try tokens.session(for: before) == session)
        let retired = backend(kek: new)
        #expect(try SessionTokens(mac: { try retired.sessionMAC($0) }, otherMACs: { try retired.otherSessionMACs($0) }).session(for: before) == nil)
        #expect(rotating.keks?.current == ServerKeys.kekIDText(new) && rotating.keks?.unwrapOnly == [ServerKeys.kekIDText(old)])
    }
}
