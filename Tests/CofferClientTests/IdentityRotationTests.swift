import CofferAPI
@testable import CofferClient
import Crypto
import Foundation
import Testing

/// A client follows an identity rotation only through a statement signed by the key it pinned, and
/// takes the retired key back for a few minutes past the rotation only.
@Suite struct IdentityRotationTests {
    let server = try! ServerAddress("localhost:8443")
    let nowMs = Int64(Date().timeIntervalSince1970 * 1000)

    func known() throws -> KnownServers {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-known-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return KnownServers(directory: directory)
    }

    func statement(_ previous: P256.Signing.PrivateKey, _ next: P256.Signing.PrivateKey, from: Int64) throws -> IdentityRotation {
        try IdentityRotation.make(previous: previous.publicKey, next: next.publicKey, from: from) { try previous.signature(for: $0) }
    }

    @Test("a key the pinned key vouched for is pinned in its place, and the retired key kept on a line of its own")
    func rotation() throws {
        let known = try known()
        let old = P256.Signing.PrivateKey(), new = P256.Signing.PrivateKey()
        _ = try known.check(old.publicKey, for: server, expected: nil)
        let rotation = try statement(old, new, from: nowMs - 1_000)
        let outcome = try known.check(new.publicKey, for: server, expected: nil, rotations: [rotation], nowMs: nowMs)
        #expect(outcome == .rotated(from: ServerIdentity.fingerprint(of: old.publicKey), path: [rotation]))
        let lines = try String(contentsOfFile: known.path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == ["\(server) \(ServerIdentity.fingerprint(of: new.publicKey))",
                          "\(server) \(ServerIdentity.fingerprint(of: old.publicKey)) retired \(nowMs - 1_000)"])
        #expect(try known.check(new.publicKey, for: server, expected: nil, nowMs: nowMs) == .known, "the new key is the pin now, statement or not")
    }

    @Test("the retired key is taken within the clock skew past its rotation's moment, and refused after it")
    func retiredKey() throws {
        let known = try known()
        let old = P256.Signing.PrivateKey(), new = P256.Signing.PrivateKey()
        _ = try known.check(old.publicKey, for: server, expected: nil)
        _ = try known.check(new.publicKey, for: server, expected: nil, rotations: [try statement(old, new, from: nowMs)], nowMs: nowMs)
        #expect(try known.check(old.publicKey, for: server, expected: nil, nowMs: nowMs + 60_000) == .retired)
        let late = #expect(throws: ClientError.self) {
            try known.check(old.publicKey, for: server, expected: nil, nowMs: nowMs + RequestSignature.maxClockSkewMs + 1)
        }
        #expect(late?.message.contains("HAS CHANGED") == true)
        #expect(late?.message.contains("retired by a rotation") == true)
    }

    @Test("a client that slept through two rotations follows both statements in order")
    func chain() throws {
        let known = try known()
        let first = P256.Signing.PrivateKey(), second = P256.Signing.PrivateKey(), third = P256.Signing.PrivateKey()
        _ = try known.check(first.publicKey, for: server, expected: nil)
        let path = [try statement(first, second, from: nowMs - 10_000), try statement(second, third, from: nowMs - 5_000)]
        let outcome = try known.check(third.publicKey, for: server, expected: nil, rotations: path.reversed(), nowMs: nowMs)
        #expect(outcome == .rotated(from: ServerIdentity.fingerprint(of: first.publicKey), path: path))
        let text = try String(contentsOfFile: known.path, encoding: .utf8)
        #expect(text.contains("\(ServerIdentity.fingerprint(of: first.publicKey)) retired"))
        #expect(text.contains("\(ServerIdentity.fingerprint(of: second.publicKey)) retired"))
    }

    @Test("refused: a statement by another key, one not yet in force, one altered, and a rotation against --server-key")
    func refusals() throws {
        let known = try known()
        let old = P256.Signing.PrivateKey(), new = P256.Signing.PrivateKey(), intruder = P256.Signing.PrivateKey()
        _ = try known.check(old.publicKey, for: server, expected: nil)
        let pinned = try String(contentsOfFile: known.path, encoding: .utf8)
        var altered = try statement(old, new, from: nowMs - 1_000)
        altered.from -= 1
        let cases: [(String, [IdentityRotation])] = [
            ("signed by a key that is not the pin", [try statement(intruder, new, from: nowMs - 1_000)]),
            ("in force only later than the clock skew", [try statement(old, new, from: nowMs + RequestSignature.maxClockSkewMs + 1_000)]),
            ("altered after signing", [altered]),
            ("none at all", []),
        ]
        for (what, rotations) in cases {
            let error = #expect(throws: ClientError.self, "\(what)") {
                try known.check(new.publicKey, for: server, expected: nil, rotations: rotations, nowMs: nowMs)
            }
            #expect(error?.code == .notPermitted, "\(what)")
            #expect(error?.message.contains("HAS CHANGED") == true, "\(what)")
        }
        #expect(throws: ClientError.self, "a fingerprint given up front wins over any statement") {
            try known.check(new.publicKey, for: server, expected: ServerIdentity.fingerprint(of: old.publicKey),
                            rotations: [try statement(old, new, from: nowMs - 1_000)], nowMs: nowMs)
        }
        #expect(try String(contentsOfFile: known.path, encoding: .utf8) == pinned, "a refused key leaves the pin as it was")
    }

    @Test("a statement whose two keys are one, or that does not parse, verifies as nothing")
    func malformed() throws {
        let key = P256.Signing.PrivateKey()
        #expect(try statement(key, key, from: 1).verified == nil)
        #expect(IdentityRotation(previousKey: "!", nextKey: "", from: 0, signature: "").verified == nil)
    }
}

extension IdentityRotationTests {
    @Test("more statements than any deployment makes are refused whole, even when one of them would do")
    func tooManyStatements() throws {
        let known = try known()
        let old = P256.Signing.PrivateKey(), new = P256.Signing.PrivateKey()
        _ = try known.check(old.publicKey, for: server, expected: nil)
        let good = try statement(old, new, from: nowMs - 1_000)
        let filler = try statement(P256.Signing.PrivateKey(), P256.Signing.PrivateKey(), from: 0)
        let many = [good] + Array(repeating: filler, count: IdentityRotation.maxStatements)
        #expect(IdentityRotation.path(from: ServerIdentity.fingerprint(of: old.publicKey), to: ServerIdentity.fingerprint(of: new.publicKey),
                                      through: many, inForceBy: nowMs) == nil)
        #expect(throws: ClientError.self) { try known.check(new.publicKey, for: server, expected: nil, rotations: many, nowMs: nowMs) }
        let atLimit = try known.check(new.publicKey, for: server, expected: nil, rotations: Array(many.prefix(IdentityRotation.maxStatements)), nowMs: nowMs)
        #expect(atLimit == .rotated(from: ServerIdentity.fingerprint(of: old.publicKey), path: [good]), "at the limit the statement is followed")
    }
}
