import CofferAudit
import Crypto
import Foundation
import Testing

@Suite struct SignedNoteTests {
    /// The example of golang.org/x/mod/sumdb/note's documentation.
    static let goSigningSeed = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    static let goVerifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    static let goText = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    static let goNote = goText + "\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

    static func goSigner() throws -> NoteSigner {
        let seed = Data(base64Encoded: goSigningSeed)!.dropFirst()
        return try NoteSigner(keyName: "PeterNeumann", key: try Curve25519.Signing.PrivateKey(rawRepresentation: seed))
    }

    @Test func signsExactlyLikeTheGoImplementation() throws {
        let signer = try Self.goSigner()
        #expect(signer.verifier.serialized == Self.goVerifierKey)
        #expect(try signer.sign(Self.goText).serialized == Self.goNote)
    }

    @Test func verifiesTheGoExampleNote() throws {
        let verifier = try NoteVerifier(parsing: Self.goVerifierKey)
        #expect(try verifier.verify(try SignedNote(parsing: Self.goNote)) == Self.goText)
    }

    @Test func refusesAnAlteredTextOrAnotherKey() throws {
        let verifier = try NoteVerifier(parsing: Self.goVerifierKey)
        let altered = Self.goNote.replacingOccurrences(of: "cryptography", with: "cryptographY")
        #expect(throws: NoteError.self) { try verifier.verify(try SignedNote(parsing: altered)) }
        let other = try NoteSigner(keyName: "PeterNeumann", key: Curve25519.Signing.PrivateKey())
        #expect(throws: NoteError.self) { try verifier.verify(try other.sign(Self.goText)) }
    }

    @Test func refusesMalformedNotesAndKeys() throws {
        for note in ["", "no blank line\n", "text\n\n", "text\n\n\u{2014} name !!!\n", "text\n\n- name AAAAAAAA\n", "text\n\n\u{2014} name AAAAAAAA"] {
            #expect(throws: NoteError.self) { try SignedNote(parsing: note) }
        }
        for vkey in ["", "name+00000000+AA==", "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "a b+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"] {
            #expect(throws: NoteError.self) { try NoteVerifier(parsing: vkey) }
        }
        #expect(throws: NoteError.self) { try NoteSigner(keyName: "has space", key: Curve25519.Signing.PrivateKey()) }
        #expect(throws: NoteError.self) { try Self.goSigner().sign("no newline") }
    }

    @Test func checkpointsRoundTripAndCheckTheirOrigin() throws {
        let signer = try NoteSigner(keyName: "coffer.test/audit", key: Curve25519.Signing.PrivateKey())
        let checkpoint = Checkpoint(origin: "coffer.test/audit", size: 42, rootHash: MerkleHash.leaf([1]))
        let note = try signer.sign(checkpoint.text).serialized
        #expect(try Checkpoint.open(note, verifier: signer.verifier, origin: "coffer.test/audit") == checkpoint)
        #expect(throws: NoteError.self) { try Checkpoint.open(note, verifier: signer.verifier, origin: "another/log") }
        for text in ["origin\n-1\nAAAA\n", "origin\n01\n\(Data(MerkleHash.empty).base64EncodedString())\n", "origin\n1\nAAAA\n", "\n1\n\(Data(MerkleHash.empty).base64EncodedString())\n"] {
            #expect(throws: NoteError.self) { try Checkpoint(text: text) }
        }
    }

    @Test func auditLeavesRoundTripAndRefuseUnknownVersions() throws {
        let leaf = AuditLeaf(index: 3, timeMs: 1_700_000_000_000, kind: "save", user: "alice", recordID: "00112233445566778899aabbccddeeff", fileName: "a/b.txt", detail: "", source: "127.0.0.1", clientID: "c")
        let bytes = try leaf.encoded()
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("{\"clientID\":\"c\",\"detail\":\"\",\"fileName\":\"a/b.txt\",\"index\":3,"))
        #expect(try AuditLeaf(bytes: bytes) == leaf)
        #expect(AuditLeaf.hex([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
        #expect(throws: NoteError.self) { try AuditLeaf(bytes: Array("{\"v\":2}".utf8)) }
        #expect(throws: NoteError.self) { try AuditLeaf(bytes: Array("not json".utf8)) }
    }

    @Test("a leaf carries hidden scalars as \\u escapes, so an export reads safely on a terminal, and decodes to the same entry")
    func auditLeavesEscapeHiddenScalars() throws {
        let leaf = AuditLeaf(index: 1, timeMs: 1, kind: "admin", user: "admin", recordID: nil, fileName: "invoice\u{202E}fdp.exe",
                             detail: "reason \u{9B}2J\u{2028}", source: "ops", clientID: "")
        let text = String(decoding: try leaf.encoded(), as: UTF8.self)
        #expect(text.contains("invoice\\u202efdp.exe") && text.contains("\\u009b2J\\u2028"), "\(text)")
        #expect(text.unicodeScalars.allSatisfy { $0.value < 0x7F })
        #expect(try AuditLeaf(bytes: try leaf.encoded()) == leaf)
    }
}
