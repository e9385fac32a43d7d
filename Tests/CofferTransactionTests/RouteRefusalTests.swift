import CofferAPI
import CofferTierLink
import CofferWire
import Crypto
import Foundation
import HTTPTypes
import Testing

/// Every refusal the authorization matrix checks end to end, checked in process on the routes, over
/// an in-memory double of the database tier.
@Suite struct RouteRefusalTests {
    /// A signed endpoint, its body, and the first database-tier operation it calls.
    struct Endpoint: Sendable {
        let method: HTTPRequest.Method
        let path: String
        let body: [UInt8]
        let operation: String
    }

    static let record = UUID().uuidString.lowercased()
    static let token = Data("a receipt token".utf8).base64EncodedString()
    static func json(_ value: some Encodable) -> [UInt8] { Array(try! JSONEncoder().encode(value)) }

    static let endpoints: [Endpoint] = [
        Endpoint(method: .post, path: "/v1/save", body: json(SaveRequest(fileName: "a.txt", sha256: String(repeating: "ab", count: 32), size: 1)), operation: "CreateRecord"),
        Endpoint(method: .post, path: "/v1/retrieve", body: json(RetrieveRequest(recordID: record, fileName: "a.txt", token: token)), operation: "ReleaseKey"),
        Endpoint(method: .post, path: "/v1/reseal", body: json(RecordRequest(recordID: record, token: token)), operation: "ConfirmReseal"),
        Endpoint(method: .post, path: "/v1/delete", body: json(RecordRequest(recordID: record, token: token)), operation: "DeleteRecord"),
        Endpoint(method: .get, path: "/v1/records", body: [], operation: "ListRecords"),
        Endpoint(method: .get, path: "/v1/history", body: [], operation: "ListHistory"),
        Endpoint(method: .get, path: "/v1/records/\(record)/history", body: [], operation: "ListHistory"),
        Endpoint(method: .post, path: "/v1/audit/checkpoint", body: Array("{}".utf8), operation: "Ping"),
        Endpoint(method: .post, path: "/v1/audit/proofs", body: json(AuditProofsRequest(treeSize: 1, fromSize: nil, indexes: [0])), operation: "GetAuditProofs"),
        Endpoint(method: .post, path: "/v1/logout", body: json(LogoutRequest(everywhere: false)), operation: "EndSessions"),
        Endpoint(method: .post, path: "/v1/password", body: json(PasswordChangeRequest(password: "the current one", newPassword: "a new passphrase")), operation: "GetCredentials"),
    ]

    @Test("every signed endpoint refuses a missing, expired, unsigned, stale, foreign-signed or tampered request before the database tier is asked")
    func authenticationRefusals() async throws {
        let bed = try await RouteTestbed.make()
        let stranger = P256.Signing.PrivateKey()
        try await bed.test { client in
            for e in Self.endpoints {
                let name = "\(e.method) \(e.path)"
                let token = bed.token()
                let cases: [(String, HTTPFields, [UInt8], Int, String)] = [
                    ("no session", try bed.signedHeaders(e.method, e.path, body: e.body, token: nil, signer: bed.device), e.body, 401, "unauthorized"),
                    ("an expired session", try bed.signedHeaders(e.method, e.path, body: e.body, token: bed.token(issuedAgo: 3_600), signer: bed.device), e.body, 401, "unauthorized"),
                    ("a forged token", try bed.signedHeaders(e.method, e.path, body: e.body, token: token + "x", signer: bed.device), e.body, 401, "unauthorized"),
                    ("no signature", try bed.signedHeaders(e.method, e.path, body: e.body, token: token, signer: nil), e.body, 401, "unsigned"),
                    ("a stale time", try bed.signedHeaders(e.method, e.path, body: e.body, token: token, signer: bed.device, time: Date().addingTimeInterval(-600)), e.body, 401, "stale"),
                    ("another device's signature", try bed.signedHeaders(e.method, e.path, body: e.body, token: token, signer: stranger), e.body, 401, "bad_signature"),
                    ("a tampered body", try bed.signedHeaders(e.method, e.path, body: e.body, token: token, signer: bed.device), e.body + Array(" ".utf8), 401, "bad_signature"),
                ]
                for (what, headers, body, status, code) in cases {
                    let answer = try await client.send(e.method, e.path, headers: headers, body: body)
                    #expect(answer.status == status && answer.code == code, "\(name) with \(what): \(answer.status) \(answer.body)")
                }
            }
        }
        #expect(bed.database.calls.isEmpty, "nothing reached the database tier: \(bed.database.calls)")
    }

    @Test("the database tier's refusals become the documented answers on every signed endpoint")
    func databaseRefusals() async throws {
        let refusals: [(WireError.Code?, Int, String)] = [
            (.replayed, 409, "replayed"), (.sessionEnded, 401, "session_ended"), (.accountLocked, 403, "account_locked"),
            (.auditFailed, 503, "audit_unavailable"), (.unavailable, 503, "unavailable"), (nil, 503, "unavailable"),
        ]
        for (code, status, expected) in refusals {
            let bed = try await RouteTestbed.make()
            for e in Self.endpoints {
                if let code { bed.database.refuse(e.operation, code) } else {
                    bed.database.answer(e.operation) { _ in throw DatabaseLinkError.unavailable("no database process answered") }
                }
            }
            try await bed.test { client in
                for e in Self.endpoints {
                    let answer = try await client.send(e.method, e.path, headers: try bed.signedHeaders(e.method, e.path, body: e.body, token: bed.token(), signer: bed.device), body: e.body)
                    #expect(answer.status == status && answer.code == expected, "\(e.method) \(e.path) refused \(String(describing: code)): \(answer.status) \(answer.body)")
                }
            }
        }
    }

    @Test("another user's record and a missing one are not found on every endpoint that names a record; a replay is refused")
    func notFoundAndReplay() async throws {
        let bed = try await RouteTestbed.make()
        for operation in ["ReleaseKey", "ConfirmReseal", "DeleteRecord", "ListHistory", "GetAuditProofs"] { bed.database.refuse(operation, .notFound) }
        try await bed.test { client in
            for e in Self.endpoints where ["/v1/retrieve", "/v1/reseal", "/v1/delete", "/v1/records/\(Self.record)/history", "/v1/audit/proofs"].contains(e.path) {
                let answer = try await client.send(e.method, e.path, headers: try bed.signedHeaders(e.method, e.path, body: e.body, token: bed.token(), signer: bed.device), body: e.body)
                #expect(answer.status == 404 && answer.code == "not_found", "\(e.path): \(answer.status) \(answer.body)")
                #expect(!answer.body.contains("a.txt"), "nothing of the record is told")
            }
            bed.database.answer("ListRecords") { _ in .records(.init()) }
            let headers = try bed.signedHeaders(.get, "/v1/records", body: [], token: bed.token(), signer: bed.device)
            #expect(try await client.send(.get, "/v1/records", headers: headers, body: []).status == 200)
            let replayed = try await client.send(.get, "/v1/records", headers: headers, body: [])
            #expect(replayed.status == 409 && replayed.code == "replayed", "\(replayed.body)")
        }
    }
}
