import CofferAPI
import CofferWire
import HTTPTypes
import Foundation
public import Hummingbird

/// Binds the HTTPS API (`docs/api/openapi.yaml`) to a ``TransactionService``.
public enum APIRoutes {
    /// The largest request body read, in bytes.
    static let maxBody = 64 * 1024

    /// Builds the router.
    public static func router(service: TransactionService) -> Router<CofferRequestContext> {
        let router = Router(context: CofferRequestContext.self)
        let routes = RouteTable()
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: ErrorAnswerMiddleware(routes: routes))
        if let fault = FaultInjectionMiddleware<CofferRequestContext>.fromEnvironment() { router.add(middleware: fault) }
        let v1 = router.group("v1")

        v1.post("identity") { request, _ -> IdentityResponse in
            try service.identity(try await RequestBody.decode(IdentityRequest.self, from: request))
        }
        v1.post("register") { request, context -> EditedResponse<RegisterResponse> in
            let body = try await RequestBody.decode(RegisterRequest.self, from: request)
            return EditedResponse(status: .created, response: try await service.register(body, source: context.source))
        }
        v1.post("login") { request, context -> LoginResponse in
            try await service.login(try await RequestBody.decode(LoginRequest.self, from: request), source: context.source)
        }
        v1.post("save") { request, context -> SaveResponse in
            let signed = try await SignedRequest(request, service: service)
            return try await service.save(try signed.decode(SaveRequest.self), session: signed.session, replayGuard: signed.replayGuard, source: context.source)
        }
        v1.post("retrieve") { request, context -> RetrieveResponse in
            let signed = try await SignedRequest(request, service: service)
            return try await service.retrieve(try signed.decode(RetrieveRequest.self), session: signed.session, replayGuard: signed.replayGuard, source: context.source)
        }
        v1.post("reseal") { request, context -> RecordChangeResponse in
            let signed = try await SignedRequest(request, service: service)
            return try await service.confirmReseal(try signed.decode(RecordRequest.self), session: signed.session, replayGuard: signed.replayGuard, source: context.source)
        }
        v1.post("delete") { request, context -> RecordChangeResponse in
            let signed = try await SignedRequest(request, service: service)
            return try await service.delete(try signed.decode(RecordRequest.self), session: signed.session, replayGuard: signed.replayGuard, source: context.source)
        }
        v1.post("logout") { request, context -> LogoutResponse in
            let signed = try await SignedRequest(request, service: service)
            return try await service.logout(try signed.decode(LogoutRequest.self), session: signed.session, replayGuard: signed.replayGuard, source: context.source)
        }
        v1.post("password") { request, context -> PasswordChangeResponse in
            let signed = try await SignedRequest(request, service: service)
            return try await service.changePassword(try signed.decode(PasswordChangeRequest.self), session: signed.session, replayGuard: signed.replayGuard, source: context.source)
        }
        v1.get("records") { request, _ -> RecordsResponse in
            let signed = try await SignedRequest(request, service: service)
            return try await service.records(session: signed.session, replayGuard: signed.replayGuard)
        }
        v1.get("history") { request, _ -> HistoryResponse in
            let signed = try await SignedRequest(request, service: service)
            return try await service.history(session: signed.session, replayGuard: signed.replayGuard, recordID: nil)
        }
        v1.get("records/:id/history") { request, context -> HistoryResponse in
            let signed = try await SignedRequest(request, service: service)
            return try await service.history(session: signed.session, replayGuard: signed.replayGuard, recordID: try context.parameters.require("id"))
        }
        v1.post("audit/checkpoint") { request, _ -> AuditCheckpointResponse in
            let signed = try await SignedRequest(request, service: service)
            _ = try signed.decode(AuditCheckpointRequest.self)
            return try await service.auditCheckpoint(replayGuard: signed.replayGuard)
        }
        v1.post("audit/proofs") { request, _ -> AuditProofsResponse in
            let signed = try await SignedRequest(request, service: service)
            return try await service.auditProofs(try signed.decode(AuditProofsRequest.self), session: signed.session, replayGuard: signed.replayGuard)
        }
        v1.get("live") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"live"}"#)))
        }
        v1.get("ready") { _, _ -> Response in
            let state = await service.readiness()
            let body = try JSONEncoder().encode(["status": state.ok ? "ready" : "not ready", "detail": state.detail])
            return Response(status: state.ok ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        v1.get("health") { _, _ -> Response in
            let health = await service.databaseHealth()
            let auditFault = service.auditFault()
            let ok = health.ok && auditFault == nil
            let status = HealthStatus(status: ok ? "ok" : "degraded", database: health.ok ? health.detail : "unavailable", audit: auditFault ?? "ok")
            let body = try JSONEncoder().encode(status)
            return Response(
                status: ok ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: body))
            )
        }
        v1.get("server-key") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "application/x-pem-file"],
                body: .init(byteBuffer: ByteBuffer(string: service.keys.signingPublicKeyPEM + "\n"))
            )
        }
        routes.load(router.routes.map { ($0.path, $0.method.rawValue) })
        return router
    }
}

/// The health answer.
struct HealthStatus: Codable {
    /// `ok` or `degraded`.
    var status: String
    /// The store and schema, or `unavailable`.
    var database: String
    /// `ok`, or why audit entries cannot be written (`failing: …`) or the log showed a rewrite (`inconsistent: …`).
    var audit: String
}

/// A request whose bearer token and device signature have been checked, with its body read once.
struct SignedRequest {
    let session: Session
    let replayGuard: Coffer_Wire_V1_ReplayGuard
    let body: [UInt8]

    init(_ request: Request, service: TransactionService) async throws {
        let body = try await RequestBody.collect(request)
        let header = { (name: String) in HTTPField.Name(name).flatMap { request.headers[$0] } }
        var bearer: String?
        if let value = request.headers[.authorization], value.hasPrefix("Bearer ") { bearer = String(value.dropFirst(7)) }
        (session, replayGuard) = try service.authenticate(
            bearer: bearer, method: request.method.rawValue, path: request.uri.string, body: body,
            time: header(RequestSignature.timeHeader), nonce: header(RequestSignature.nonceHeader),
            signature: header(RequestSignature.signatureHeader)
        )
        self.body = body
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try RequestBody.decode(type, from: body)
    }
}

/// Adds headers every answer should carry: no caching of key material, HTTPS only.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.cacheControl] = "no-store"
        response.headers[.strictTransportSecurity] = "max-age=31536000"
        response.headers[.xContentTypeOptions] = "nosniff"
        return response
    }
}
