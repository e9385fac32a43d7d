import CofferAPI
import CofferAudit
import CofferKeys
import CofferTierLink
import CofferTimestamp
import CofferTransaction
import CofferWire
import Crypto
import Foundation
import HTTPTypes
import NIOSSL
import Synchronization
import Testing

/// A key backend whose device fails at one step, inside the tier: the routes answer 503
/// `device_unavailable`, store and release nothing, and audit a retrieval the device failed.
@Suite struct DeviceFailureTests {
    /// The steps a failing device can fail at.
    enum Step: Sendable { case mac, makeKey, release }

    /// Key files, but the device "fails" at `failing`, as ``DeviceKeyBackend`` reports it.
    struct FailingKeys: KeyBackend {
        struct Failed: Error {}
        let files: FileKeyBackend
        let failing: Step

        var description: String { "a failing device" }
        var signingPublicKey: P256.Signing.PublicKey { files.signingPublicKey }
        func sign(_ message: [UInt8]) throws -> P256.Signing.ECDSASignature { try files.sign(message) }
        func makeDecodeKey(recordID: [UInt8], owner: String) throws -> WrappedDecodeKey {
            if failing == .makeKey { throw Failed() }
            return try files.makeDecodeKey(recordID: recordID, owner: owner)
        }
        func releaseDecodeKey(_ wrapped: [UInt8], recordID: [UInt8], owner: String, encodeKeyID: [UInt8]) throws -> P256.KeyAgreement.PrivateKey {
            if failing == .release { throw Failed() }
            return try files.releaseDecodeKey(wrapped, recordID: recordID, owner: owner, encodeKeyID: encodeKeyID)
        }
        func sessionMAC(_ payload: [UInt8]) throws -> [UInt8] {
            if failing == .mac { throw Failed() }
            return try files.sessionMAC(payload)
        }
        func timestampAuthority(certificateChainPEM: String) throws -> TimestampAuthority { try files.timestampAuthority(certificateChainPEM: certificateChainPEM) }
        func checkpointSigner(origin: String) throws -> NoteSigner { try files.checkpointSigner(origin: origin) }
        func tlsKey() throws -> (key: NIOSSLPrivateKey, publicKey: P256.Signing.PublicKey)? { nil }
        func perform<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
            do { return try work() } catch is Failed { throw DeviceKeyBackend.unavailable }
        }
    }

    let record = RecordID.random()

    func bed(failing step: Step) async throws -> RouteTestbed {
        try await RouteTestbed.make(keyBackend: { FailingKeys(files: $0, failing: step) })
    }

    func post(_ bed: RouteTestbed, _ path: String, _ bytes: [UInt8], token: String) async throws -> RouteAnswer {
        try await bed.test { client in
            try await client.send(.post, path, headers: try bed.signedHeaders(.post, path, body: bytes, token: token, signer: bed.device), body: bytes)
        }
    }

    @Test("a device failure while unwrapping a released key answers 503 device_unavailable, releases nothing and audits a retrieve_refused naming the record")
    func releaseFails() async throws {
        let bed = try await bed(failing: .release)
        let token = bed.token()
        let (decodeKey, released) = try bed.released(record, sha256: Array(repeating: 0xAB, count: 32), size: 5)
        bed.database.answer("ReleaseKey") { _ in .keyReleased(released) }
        let audited = Mutex<[(String, String, String)]>([])
        bed.database.answer("AppendAudit") { body in
            guard case .appendAudit(let m) = body else { throw DatabaseLinkError.refused(.internal, "not an audit entry") }
            audited.withLock { $0.append((m.kind, m.user, m.detail)) }
            return .ack(.init())
        }
        let body = RouteRefusalTests.json(RetrieveRequest(recordID: RecordID.text(record)!, fileName: "a.txt", token: RouteRefusalTests.token))
        let answer = try await post(bed, "/v1/retrieve", body, token: token)
        #expect(answer.status == 503 && answer.body.contains("device_unavailable"), "\(answer.body)")
        #expect(!answer.body.contains(decodeKey.rawRepresentation.base64EncodedString()))
        #expect(bed.database.calls.filter { $0 != "Ping" } == ["ReleaseKey", "AppendAudit"], "no re-seal is staged")
        let entry = try #require(audited.withLock { $0.first })
        #expect(entry.0 == AuditKind.retrieveRefused.rawValue && entry.1 == "alice" && entry.2.contains(RecordID.text(record)!), "\(entry)")
    }

    @Test("a device failure while making a save's key pair answers 503 and stores nothing")
    func saveFails() async throws {
        let bed = try await bed(failing: .makeKey)
        let body = RouteRefusalTests.json(SaveRequest(fileName: "a.txt", sha256: String(repeating: "ab", count: 32), size: 5))
        let answer = try await post(bed, "/v1/save", body, token: bed.token())
        #expect(answer.status == 503 && answer.body.contains("device_unavailable"), "\(answer.body)")
        #expect(!bed.database.calls.contains("CreateRecord"))
    }

    @Test("a device failure while checking a session token answers 503, not 401: the session is not thrown away")
    func sessionCheckFails() async throws {
        let files = try await RouteTestbed.make()
        let token = files.token()
        let bed = try await bed(failing: .mac)
        let body = RouteRefusalTests.json(SaveRequest(fileName: "a.txt", sha256: String(repeating: "ab", count: 32), size: 5))
        let answer = try await post(bed, "/v1/save", body, token: token)
        #expect(answer.status == 503 && answer.body.contains("device_unavailable"), "\(answer.body)")
        #expect(bed.database.calls.filter { $0 != "Ping" }.isEmpty)
    }
}
