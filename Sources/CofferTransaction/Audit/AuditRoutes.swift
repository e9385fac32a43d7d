import CofferAPI
import Hummingbird

/// `/v1/history`, `/v1/records/{id}/history`, `/v1/audit/checkpoint` and `/v1/audit/proofs`, all signed.
enum AuditRoutes {
    static func signed(_ service: AuditService) -> RouteCollection<SignedRequestContext> {
        let routes = RouteCollection(context: SignedRequestContext.self)
        routes.get("history") { _, context -> HistoryResponse in
            try await service.history(context, recordID: nil)
        }
        routes.get("records/:id/history") { _, context -> HistoryResponse in
            try await service.history(context, recordID: try context.parameters.require("id"))
        }
        routes.post("audit/checkpoint") { _, context -> AuditCheckpointResponse in
            _ = try context.decode(AuditCheckpointRequest.self)
            return try await service.checkpoint(context)
        }
        routes.post("audit/proofs") { _, context -> AuditProofsResponse in
            try await service.proofs(try context.decode(AuditProofsRequest.self), context)
        }
        return routes
    }
}
