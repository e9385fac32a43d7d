import CofferAPI
import Hummingbird

/// `/v1/records/{id}/grants` (share), `/v1/records/{id}/grants/{grantee}` (revoke) and
/// `/v1/grants` (the caller's grants, made and received), all signed.
enum SharingRoutes {
    static func signed(_ service: SharingService) -> RouteCollection<SignedRequestContext> {
        let routes = RouteCollection(context: SignedRequestContext.self)
        routes.post("records/:id/grants") { _, context -> GrantChangeResponse in
            try await service.share(try context.decode(ShareRequest.self), recordID: try context.parameters.require("id"), context)
        }
        routes.delete("records/:id/grants/:grantee") { _, context -> GrantChangeResponse in
            try await service.unshare(recordID: try context.parameters.require("id"), grantee: try context.parameters.require("grantee"), context)
        }
        routes.get("grants") { _, context -> GrantsResponse in
            try await service.grants(context)
        }
        return routes
    }
}
