@testable import CofferTransaction
import Crypto
import Foundation
import Testing

@Suite struct KeyWrapperTests {
    let wrapper = KeyWrapper(kek: SymmetricKey(size: .bits256))
    let record: [UInt8] = Array(repeating: 1, count: 16)

    @Test("a wrapped decode key unwraps for its own record and owner")
    func roundTrip() throws {
        let key = P256.KeyAgreement.PrivateKey()
        let wrapped = try wrapper.wrap(key, recordID: record, owner: "alice")
        let id = KeyWrapper.keyID(key.publicKey)
        #expect(try wrapper.unwrap(wrapped, recordID: record, owner: "alice", encodeKeyID: id).rawRepresentation == key.rawRepresentation)
        #expect(!wrapped.contains(subsequence: Array(key.rawRepresentation)))
    }

    @Test("a wrapped key moved to another record, owner or key generation, or altered, does not unwrap")
    func boundToRecordOwnerAndGeneration() throws {
        let key = P256.KeyAgreement.PrivateKey()
        let id = KeyWrapper.keyID(key.publicKey)
        let wrapped = try wrapper.wrap(key, recordID: record, owner: "alice")
        #expect(throws: (any Error).self) { try wrapper.unwrap(wrapped, recordID: Array(repeating: 2, count: 16), owner: "alice", encodeKeyID: id) }
        #expect(throws: (any Error).self) { try wrapper.unwrap(wrapped, recordID: record, owner: "bob", encodeKeyID: id) }
        #expect(throws: (any Error).self) { try wrapper.unwrap(wrapped, recordID: record, owner: "alice", encodeKeyID: Array(repeating: 0, count: 32)) }
        var altered = wrapped
        altered[20] ^= 1
        #expect(throws: (any Error).self) { try wrapper.unwrap(altered, recordID: record, owner: "alice", encodeKeyID: id) }
        #expect(throws: (any Error).self) { try KeyWrapper(kek: SymmetricKey(size: .bits256)).unwrap(wrapped, recordID: record, owner: "alice", encodeKeyID: id) }
    }
}

@Suite struct SessionTokenTests {
    let tokens = SessionTokens(kek: SymmetricKey(size: .bits256), lifetime: .seconds(60))
    let session = Session(user: "alice", clientID: "0b6f7a52-0a7e-4d39-9d6a-1d1c4f6d2a11", deviceKey: P256.Signing.PrivateKey().publicKey)

    @Test("a fresh token names its user, client and device key until it expires")
    func lifetime() throws {
        let now = Date()
        let issued = try tokens.issue(for: session, now: now)
        #expect(try tokens.session(for: issued.token, now: now) == session)
        #expect(try tokens.session(for: issued.token, now: now)?.deviceKey.x963Representation == session.deviceKey.x963Representation)
        #expect(try tokens.session(for: issued.token, now: now.addingTimeInterval(61)) == nil)
    }

    @Test("a token carries the millisecond it was issued, which a logout compares against")
    func issueTime() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000.123)
        let issued = try tokens.issue(for: session, now: now)
        let checked = try #require(try tokens.session(for: issued.token, now: now))
        #expect(checked.issuedAtMs == 1_800_000_000_123)
        #expect(issued.expiresAt == 1_800_000_060)
    }

    @Test("tampered, foreign and malformed tokens are refused")
    func refusals() throws {
        let issued = try tokens.issue(for: session)
        var chars = Array(issued.token)
        chars[3] = chars[3] == "A" ? "B" : "A"
        #expect(try tokens.session(for: String(chars)) == nil)
        #expect(try SessionTokens(kek: SymmetricKey(size: .bits256)).session(for: issued.token) == nil)
        for junk in ["", ".", "abc", "a.b.c", String(repeating: "x", count: 5000)] {
            #expect(try tokens.session(for: junk) == nil)
        }
    }

    @Test("base64url round-trips every length and byte, and the standard alphabet and padding are refused")
    func base64url() {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + length * 11 + 250) }
            let text = SessionTokens.base64url(bytes)
            #expect(!text.contains("+") && !text.contains("/") && !text.contains("="))
            #expect(SessionTokens.unbase64url(text) == bytes)
        }
        #expect(SessionTokens.base64url([0xfb, 0xff]) == "-_8")
        #expect(SessionTokens.unbase64url("-_8") == [0xfb, 0xff])
        for refused in ["+/8", "-_8=", "a", "a*b"] {
            #expect(SessionTokens.unbase64url(refused) == nil, "\(refused)")
        }
    }
}

@Suite struct PasswordHasherTests {
    let hasher = PasswordHasher()

    @Test("the right password matches, a wrong one does not, and hashes are salted")
    func verify() throws {
        let stored = try hasher.hash("correct horse")
        #expect(stored.hasPrefix("pbkdf2-sha256$600000$"))
        #expect(hasher.verify("correct horse", against: stored))
        #expect(!hasher.verify("correct horsE", against: stored))
        #expect(try hasher.hash("correct horse") != stored)
    }

    @Test("malformed or too-cheap stored hashes never match")
    func malformed() {
        for stored in ["", "plain", "pbkdf2-sha256$1000$AAAA$AAAA", "md5$600000$AAAA$AAAA", "pbkdf2-sha256$x$y$z"] {
            #expect(!hasher.verify("anything", against: stored))
        }
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool {
        guard subsequence.count <= count else { return false }
        return (0...(count - subsequence.count)).contains { Array(self[$0..<($0 + subsequence.count)]) == subsequence }
    }
}

@Suite struct DummyHashTests {
    @Test("the dummy hash for unknown users is well formed at full cost and matches no password")
    func dummy() {
        let hasher = PasswordHasher()
        let dummy = hasher.dummyHash()
        #expect(dummy.hasPrefix("pbkdf2-sha256$600000$"))
        #expect(dummy.split(separator: "$").count == 4)
        #expect(!hasher.verify("", against: dummy))
        #expect(!hasher.verify("correct horse battery staple", against: dummy))
    }
}
