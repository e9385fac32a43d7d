import CofferKeys
import Crypto
import Foundation
import Hummingbird

/// `/v1/live`, `/v1/ready`, `/v1/health` and `/v1/server-key`: open, for balancers, monitors and clients.
enum HealthRoutes {
    static func open(_ service: HealthService, identity: IdentityKeys) -> RouteCollection<CofferRequestContext> {
        let routes = RouteCollection(context: CofferRequestContext.self)
        routes.get("live") { _, _ -> Response in
            json(.ok, ["status": "live"])
        }
        routes.get("ready") { _, _ -> Response in
            let state = await service.readiness()
            return json(state.ok ? .ok : .serviceUnavailable, ["status": state.ok ? "ready" : "not ready", "detail": state.detail])
        }
        routes.get("health") { _, _ -> Response in
            let health = await service.databaseHealth()
            let auditFault = service.auditFault()
            let ok = health.ok && auditFault == nil
            return json(ok ? .ok : .serviceUnavailable, [
                "status": ok ? "ok" : "degraded", "database": health.ok ? health.detail : "unavailable", "audit": auditFault ?? "ok",
            ])
        }
        routes.get("server-key") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/x-pem-file"],
                     body: .init(byteBuffer: ByteBuffer(string: identity.active().publicKey.pemRepresentation + "\n")))
        }
        return routes
    }

    /// A small JSON object answer with sorted keys.
    private static func json(_ status: HTTPResponse.Status, _ fields: [String: String]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let body = (try? encoder.encode(fields)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
