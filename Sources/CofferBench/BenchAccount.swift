import CofferAPI
import Crypto
import Foundation
import NIOHTTP1

/// A registered, logged-in user of the benchmark: its session token and device key, shared by
/// several connections (every request still gets its own nonce and signature).
struct BenchAccount: Sendable {
    let user: String
    let token: String
    let deviceKey: P256.Signing.PrivateKey

    /// Registers `user` and logs in over `connection`.
    static func create(user: String, password: String, over connection: inout KeepAliveConnection) async throws -> BenchAccount {
        let key = P256.Signing.PrivateKey()
        let clientID = UUID().uuidString.lowercased()
        let deviceKey = key.publicKey.x963Representation.base64EncodedString()
        let register = try JSONEncoder().encode(RegisterRequest(user: user, password: password, clientID: clientID, deviceKey: deviceKey))
        let registered = try await connection.send(.POST, "/v1/register", headers: [], body: Array(register))
        guard (200..<300).contains(registered.status) else {
            throw BenchError("registering \(user) failed: HTTP \(registered.status) \(String(decoding: registered.body, as: UTF8.self))")
        }
        let login = try JSONEncoder().encode(LoginRequest(user: user, password: password, clientID: clientID, deviceKey: deviceKey))
        let answer = try await connection.send(.POST, "/v1/login", headers: [], body: Array(login))
        guard answer.status == 200, let session = try? JSONDecoder().decode(LoginResponse.self, from: Data(answer.body)) else {
            throw BenchError("logging in \(user) failed: HTTP \(answer.status)")
        }
        return BenchAccount(user: user, token: session.token, deviceKey: key)
    }

    /// Sends a signed request and decodes a 2xx answer.
    func call<Answer: Decodable>(_ path: String, body: some Encodable, over connection: inout KeepAliveConnection) async throws -> Answer {
        let bytes = Array(try JSONEncoder().encode(body))
        let signed = try RequestSignature.sign(method: "POST", path: path, body: bytes, key: deviceKey)
        let headers = [
            ("Authorization", "Bearer \(token)"),
            (RequestSignature.timeHeader, signed.time),
            (RequestSignature.nonceHeader, signed.nonce),
            (RequestSignature.signatureHeader, signed.signature),
        ]
        let reply = try await connection.send(.POST, path, headers: headers, body: bytes)
        guard (200..<300).contains(reply.status) else {
            throw BenchError("\(path) answered HTTP \(reply.status): \(String(decoding: reply.body.prefix(300), as: UTF8.self))")
        }
        return try JSONDecoder().decode(Answer.self, from: Data(reply.body))
    }
}
