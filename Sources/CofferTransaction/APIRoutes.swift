import CofferAPI
import Foundation
public import Hummingbird

/// Binds the HTTPS API (`docs/api/openapi.yaml`) to a ``TransactionService``.
public enum APIRoutes {
    /// Builds the router.
    public static func router(service: TransactionService) -> Router<CofferRequestContext> {
        let router = Router(context: CofferRequestContext.self)
        router.add(middleware: SecurityHeadersMiddleware())
        let v1 = router.group("v1")

        v1.post("register") { request, context -> EditedResponse<RegisterResponse> in
            let body = try await request.decode(as: RegisterRequest.self, context: context)
            return EditedResponse(status: .created, response: try await service.register(body, source: context.source))
        }
        v1.post("login") { request, context -> LoginResponse in
            let body = try await request.decode(as: LoginRequest.self, context: context)
            return try await service.login(body, source: context.source)
        }
        v1.post("save") { request, context -> SaveResponse in
            let owner = try service.authenticate(bearer: bearer(request))
            let body = try await request.decode(as: SaveRequest.self, context: context)
            return try await service.save(body, owner: owner, source: context.source)
        }
        v1.post("retrieve") { request, context -> RetrieveResponse in
            let owner = try service.authenticate(bearer: bearer(request))
            let body = try await request.decode(as: RetrieveRequest.self, context: context)
            return try await service.retrieve(body, owner: owner, source: context.source)
        }
        v1.get("history") { request, _ -> HistoryResponse in
            let owner = try service.authenticate(bearer: bearer(request))
            return try await service.history(owner: owner, recordID: nil)
        }
        v1.get("records/:id/history") { request, context -> HistoryResponse in
            let owner = try service.authenticate(bearer: bearer(request))
            let id = try context.parameters.require("id")
            return try await service.history(owner: owner, recordID: id)
        }
        v1.get("health") { _, _ -> Response in
            let health = await service.databaseHealth()
            let body = #"{"status":"\#(health.ok ? "ok" : "degraded")","database":\#(health.ok ? "\"\(health.detail)\"" : "\"unavailable\"")}"#
            return Response(
                status: health.ok ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body))
            )
        }
        v1.get("server-key") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "application/x-pem-file"],
                body: .init(byteBuffer: ByteBuffer(string: service.keys.signingPublicKeyPEM + "\n"))
            )
        }
        return router
    }

    private static func bearer(_ request: Request) -> String? {
        guard let value = request.headers[.authorization], value.hasPrefix("Bearer ") else { return nil }
        return String(value.dropFirst("Bearer ".count))
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
