public import CofferAPI
import Foundation
import NIOHTTP1

/// Typed calls to the transaction tier's HTTPS API.
public struct KeyServiceClient: Sendable {
    private let http: HTTPSClient
    /// The server this client talks to.
    public var server: ServerAddress { http.server }

    /// - Parameters:
    ///   - server: The transaction tier's address.
    ///   - caFile: The deployment's CA certificate (PEM) that the server's certificate must chain to.
    ///   - timeout: How long one exchange may take, connection and TLS handshake included.
    public init(server: ServerAddress, caFile: String, timeout: Duration = .seconds(9)) throws {
        self.http = try HTTPSClient(server: server, caFile: caFile, requestTimeout: timeout)
    }

    public func register(user: String, password: String) async throws -> RegisterResponse {
        try await call(.POST, "/v1/register", body: RegisterRequest(user: user, password: password))
    }

    public func login(user: String, password: String) async throws -> LoginResponse {
        try await call(.POST, "/v1/login", body: LoginRequest(user: user, password: password))
    }

    public func save(_ request: SaveRequest, token: String) async throws -> SaveResponse {
        try await call(.POST, "/v1/save", bearer: token, body: request)
    }

    public func retrieve(_ request: RetrieveRequest, token: String) async throws -> RetrieveResponse {
        try await call(.POST, "/v1/retrieve", bearer: token, body: request)
    }

    /// The account's history, or one record's when `recordID` is given.
    public func history(recordID: String?, token: String) async throws -> HistoryResponse {
        let path = recordID.map { "/v1/records/\($0)/history" } ?? "/v1/history"
        return try await call(.GET, path, bearer: token, body: Optional<RegisterRequest>.none)
    }

    private func call<Body: Encodable, Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, bearer: String? = nil, body: Body?
    ) async throws -> Answer {
        let bytes = try body.map { Array(try JSONEncoder().encode($0)) }
        let reply = try await http.send(method, path, bearer: bearer, body: bytes)
        guard (200..<300).contains(reply.status) else { throw Self.error(for: reply) }
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(reply.body))
        } catch {
            throw ClientError(.software, "the key service sent an answer this coffer cannot read (HTTP \(reply.status))")
        }
    }

    static func error(for reply: HTTPSClient.Reply) -> ClientError {
        let decoded = try? JSONDecoder().decode(ErrorResponse.self, from: Data(reply.body))
        let message = decoded?.error.message ?? "HTTP \(reply.status)"
        switch reply.status {
        case 400, 413, 422: return ClientError(.usage, "the key service refused the request: \(message)")
        case 401: return ClientError(.notPermitted, message)
        case 403, 404: return ClientError(.notPermitted, message)
        case 409: return ClientError(.conflict, message)
        case 429, 503:
            let retry = reply.header("Retry-After").map { " (retry after \($0) s)" } ?? ""
            return ClientError(.unavailable, "the key service is busy or degraded: \(message)\(retry)")
        default: return ClientError(.software, "the key service failed: \(message)")
        }
    }
}
