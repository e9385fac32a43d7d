public import CofferAPI
public import Crypto
import Foundation
import NIOHTTP1

/// What an authenticated request needs: the session token and the device key that signs.
public struct SessionCredentials: Sendable {
    public let token: String
    public let device: DeviceKey
    public init(token: String, device: DeviceKey) {
        self.token = token
        self.device = device
    }
}

/// Typed calls to the transaction tier's HTTPS API.
public struct KeyServiceClient: Sendable {
    private let http: HTTPSClient
    /// The server this client talks to.
    public var server: ServerAddress { http.server }
    /// The deployment's CA certificate file, which also anchors receipts.
    public let caFile: String

    /// - Parameters:
    ///   - server: The transaction tier's address.
    ///   - caFile: The deployment's CA certificate (PEM) that the server's certificate must chain to.
    ///   - timeout: How long one exchange may take, connection and TLS handshake included.
    ///   - alternates: Other transaction processes of the deployment, tried in order when `server` cannot be reached.
    public init(server: ServerAddress, alternates: [ServerAddress] = [], caFile: String, timeout: Duration = .seconds(9)) throws {
        self.http = try HTTPSClient(server: server, alternates: alternates, caFile: caFile, requestTimeout: timeout)
        self.caFile = caFile
    }

    /// Has the server sign a fresh challenge, and checks the key against the pinned one.
    ///
    /// - Parameter expected: A fingerprint given up front (`--server-key`).
    /// - Returns: The server's fingerprint and how it stood against the pin (a rotation moves it).
    public func verifyIdentity(knownServers: KnownServers, expected: String?) async throws -> (fingerprint: String, outcome: KnownServers.Outcome, key: P256.Signing.PublicKey) {
        let challenge = (0..<ServerIdentity.challengeSize).map { _ in UInt8.random(in: 0...255) }
        let answer: IdentityResponse = try await call(.POST, "/v1/identity", body: IdentityRequest(challenge: Data(challenge).base64EncodedString()))
        guard let key = ServerIdentity.verify(answer, challenge: challenge) else {
            throw ClientError(.notPermitted, "the key service at \(server) did not prove its identity: its signature over the challenge is invalid; nothing was sent")
        }
        let outcome = try knownServers.check(key, for: server, expected: expected, rotations: answer.rotations ?? [])
        return (ServerIdentity.fingerprint(of: key), outcome, key)
    }

    public func register(user: String, password: String, device: DeviceKey) async throws -> RegisterResponse {
        try await call(.POST, "/v1/register", body: RegisterRequest(user: user, password: password, clientID: device.clientID, deviceKey: device.publicKeyBase64),
                       resend: .never(advice: "run `coffer login` to find out: if it logs in, the account exists; if it says wrong user name or password, register again"))
    }

    public func login(user: String, password: String, device: DeviceKey) async throws -> LoginResponse {
        try await call(.POST, "/v1/login", body: LoginRequest(user: user, password: password, clientID: device.clientID, deviceKey: device.publicKeyBase64),
                       resend: .never(advice: "logging in again is safe"))
    }

    /// Starts a save. The request carries its own id, so that sending it again after a lost answer
    /// gets the same record, never a second one.
    public func save(_ request: SaveRequest, session: SessionCredentials) async throws -> SaveResponse {
        var request = request
        if request.requestID == nil { request.requestID = UUID().uuidString.lowercased() }
        return try await call(.POST, "/v1/save", session: session, body: request)
    }

    public func retrieve(_ request: RetrieveRequest, session: SessionCredentials) async throws -> RetrieveResponse {
        try await call(.POST, "/v1/retrieve", session: session, body: request)
    }

    /// Confirms that the container was re-sealed under the new receipt's key.
    public func confirmReseal(_ request: RecordRequest, session: SessionCredentials) async throws -> RecordChangeResponse {
        try await call(.POST, "/v1/reseal", session: session, body: request)
    }

    /// Destroys the record's decode keys.
    public func delete(_ request: RecordRequest, session: SessionCredentials) async throws -> RecordChangeResponse {
        try await call(.POST, "/v1/delete", session: session, body: request)
    }

    /// Ends this session and the device's others, or with `everywhere` those of all the user's devices.
    public func logout(everywhere: Bool, session: SessionCredentials) async throws -> LogoutResponse {
        try await call(.POST, "/v1/logout", session: session, body: LogoutRequest(everywhere: everywhere))
    }

    /// Changes the password; the sessions of the user's other installations end.
    public func changePassword(current: String, new: String, session: SessionCredentials) async throws -> PasswordChangeResponse {
        try await call(.POST, "/v1/password", session: session, body: PasswordChangeRequest(password: current, newPassword: new),
                       resend: .never(advice: "log in with the new password to find out whether it was changed"))
    }

    /// The caller's records.
    public func records(session: SessionCredentials) async throws -> RecordsResponse {
        try await call(.GET, "/v1/records", session: session, body: Optional<RegisterRequest>.none)
    }

    /// Shares a record with another registered user until `request.expires` or until revoked.
    /// Safe to send again: sharing again only sets the same end.
    public func share(recordID: String, _ request: ShareRequest, session: SessionCredentials) async throws -> GrantChangeResponse {
        try await call(.POST, "/v1/records/\(recordID)/grants", session: session, body: request)
    }

    /// Revokes a grant at once.
    public func unshare(recordID: String, grantee: String, session: SessionCredentials) async throws -> GrantChangeResponse {
        try await call(.DELETE, "/v1/records/\(recordID)/grants/\(grantee)", session: session, body: Optional<RegisterRequest>.none,
                       resend: .never(advice: "run `coffer shared` to see whether the grant still stands"))
    }

    /// The live grants the caller made and those made to them.
    public func grants(session: SessionCredentials) async throws -> GrantsResponse {
        try await call(.GET, "/v1/grants", session: session, body: Optional<RegisterRequest>.none)
    }

    /// Announces an upload of a central copy: where to send the bytes and how many the service has.
    /// Safe to send again: the same bytes for the same record resume the same upload.
    public func beginUpload(recordID: String, _ request: CentralUploadRequest, session: SessionCredentials) async throws -> CentralUploadResponse {
        try await call(.POST, "/v1/records/\(recordID)/central", session: session, body: request)
    }

    /// Sends `length` bytes of `fd` from `offset` as the upload's bytes from that offset; the service
    /// commits the central copy once it holds all of them.
    func uploadBytes(uploadID: String, fd: Int32, offset: Int64, length: Int64, session: SessionCredentials,
                     progress: @escaping @Sendable (Int64) -> Void) async throws -> CentralUploadResponse {
        let path = "/v1/uploads/\(uploadID)?offset=\(offset)"
        do {
            let reply = try await http.send(.PUT, path, headers: try Self.signedHeaders(.PUT, path, body: [], session: session),
                                            body: .file(fd: fd, offset: offset, length: length, progress: progress), sink: nil)
            return try Self.decode(reply)
        } catch let error as HTTPSClient.NoAnswer {
            // What arrived stays staged: announcing the upload again says how much, and resumes it.
            throw ClientError(.unavailable, "\(error.message); the upload stopped midway")
        }
    }

    /// Streams the record's central copy to `sink`; answers its headers once all of it arrived.
    func downloadCentral(recordID: String, session: SessionCredentials, sink: @escaping HTTPSClient.BodySink) async throws -> HTTPSClient.Reply {
        let path = "/v1/records/\(recordID)/central"
        do {
            let reply = try await http.send(.GET, path, headers: try Self.signedHeaders(.GET, path, body: [], session: session), body: nil, sink: sink)
            guard (200..<300).contains(reply.status) else { throw Self.error(for: reply) }
            return reply
        } catch let error as HTTPSClient.NoAnswer {
            throw ClientError(.unavailable, "\(error.message); the download stopped midway and nothing was opened; retrieve it again")
        }
    }

    /// The account's history, or one record's when `recordID` is given.
    public func history(recordID: String?, session: SessionCredentials) async throws -> HistoryResponse {
        let path = recordID.map { "/v1/records/\($0)/history" } ?? "/v1/history"
        return try await call(.GET, path, session: session, body: Optional<RegisterRequest>.none)
    }

    /// The newest signed checkpoint of the audit log.
    public func auditCheckpoint(session: SessionCredentials) async throws -> AuditCheckpointResponse {
        try await call(.POST, "/v1/audit/checkpoint", session: session, body: AuditCheckpointRequest())
    }

    /// Inclusion proofs of the caller's entries and a consistency proof, at a checkpoint's size.
    public func auditProofs(_ request: AuditProofsRequest, session: SessionCredentials) async throws -> AuditProofsResponse {
        try await call(.POST, "/v1/audit/proofs", session: session, body: request)
    }

    /// The served browser module's signed manifest.
    public func webManifest() async throws -> WebManifestResponse {
        try await call(.GET, "/v1/web/manifest", body: Optional<RegisterRequest>.none)
    }

    /// An unauthenticated GET of `path`: status and the body's bytes, whatever they are.
    public func fetch(_ path: String) async throws -> (status: Int, body: [UInt8]) {
        let reply = try await send(.GET, path, session: nil, body: nil, resend: .safe)
        return (Int(reply.status), Array(reply.body))
    }

    /// The service's health answer: HTTP status and JSON body (`status`, `database`, `audit`).
    public func health() async throws -> (status: Int, body: String) {
        try await probe("/v1/health")
    }

    /// An unauthenticated GET of `path` (`/v1/health`, `/v1/live`, `/v1/ready`): status and body.
    public func probe(_ path: String) async throws -> (status: Int, body: String) {
        let (status, body) = try await fetch(path)
        return (status, String(decoding: body, as: UTF8.self))
    }

    /// Whether a request whose answer was lost may be sent again.
    enum Resend {
        /// Sending it again changes nothing more than sending it once (reads, idempotent changes, a
        /// save with its own request id): it is sent again, once, to the next server, freshly signed.
        case safe
        /// It is not sent again; the error says what to do to find out whether it was applied.
        case never(advice: String)
    }

    private func call<Body: Encodable, Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, session: SessionCredentials? = nil, body: Body?, resend: Resend = .safe
    ) async throws -> Answer {
        let bytes = try body.map { Array(try JSONEncoder().encode($0)) }
        let reply = try await send(method, path, session: session, body: bytes, resend: resend)
        return try Self.decode(reply)
    }

    /// A successful answer's JSON body, or the error the answer says.
    private static func decode<Answer: Decodable>(_ reply: HTTPSClient.Reply) throws -> Answer {
        guard (200..<300).contains(reply.status) else { throw Self.error(for: reply) }
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(reply.body))
        } catch {
            throw ClientError(.software, "the key service sent an answer this coffer cannot read (HTTP \(reply.status))")
        }
    }

    /// The headers of a request signed by the session's device key.
    private static func signedHeaders(_ method: HTTPMethod, _ path: String, body: [UInt8], session: SessionCredentials) throws -> [(String, String)] {
        let signed = try RequestSignature.sign(method: method.rawValue, path: path, body: body, key: session.device.privateKey)
        return [
            ("Authorization", "Bearer \(session.token)"),
            (RequestSignature.timeHeader, signed.time),
            (RequestSignature.nonceHeader, signed.nonce),
            (RequestSignature.signatureHeader, signed.signature),
        ]
    }

    /// Sends a request, signed afresh for each attempt; after a lost answer, sends it again to the
    /// next server when that is safe, and otherwise says what may have happened.
    private func send(_ method: HTTPMethod, _ path: String, session: SessionCredentials?, body: [UInt8]?, resend: Resend) async throws -> HTTPSClient.Reply {
        var first = 0
        var lost: [String] = []
        while true {
            let headers = try session.map { try Self.signedHeaders(method, path, body: body ?? [], session: $0) } ?? []
            do {
                return try await http.send(method, path, headers: headers, body: body, first: first)
            } catch let error as HTTPSClient.NoAnswer {
                lost.append(error.message)
                switch resend {
                case .safe where lost.count == 1:
                    first = error.serverIndex + 1
                case .safe:
                    throw ClientError(.unavailable, "\(lost.joined(separator: "; then ")); the request may or may not have been applied, and sending it again is safe: run the same command again")
                case .never(let advice):
                    throw ClientError(.unavailable, "\(error.message); the request may or may not have been applied; \(advice)")
                }
            }
        }
    }

    static func error(for reply: HTTPSClient.Reply) -> ClientError {
        let decoded = try? JSONDecoder().decode(ErrorResponse.self, from: Data(reply.body))
        let message = decoded?.error.message ?? "HTTP \(reply.status)"
        switch reply.status {
        case 413 where decoded?.error.code == "quota_exceeded": return ClientError(.notPermitted, "the key service refused the upload: \(message)")
        case 400, 413, 422: return ClientError(.usage, "the key service refused the request: \(message)")
        case 401: return ClientError(.notPermitted, message)
        case 403, 404: return ClientError(.notPermitted, message)
        case 409 where decoded?.error.code == "replayed": return ClientError(.notPermitted, message)
        case 409: return ClientError(.conflict, message)
        case 429, 503:
            let seconds = reply.header("Retry-After").flatMap { Int($0) }
            let retry = seconds.map { " (retry after \($0) s)" } ?? ""
            return ClientError(.unavailable, "the key service is busy or degraded: \(message)\(retry)", retryAfter: seconds.map { min(max($0, 1), 3_600) })
        default: return ClientError(.software, "the key service failed: \(message)")
        }
    }
}
