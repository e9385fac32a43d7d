import CofferAPI
import Hummingbird

/// `/v1/records/{id}/central` (announce an upload, download) and `/v1/uploads/{upload}` (the
/// upload's bytes, streamed: its route sits behind the authentication that leaves the body unread).
enum CentralRoutes {
    static func signed(_ service: CentralService) -> RouteCollection<SignedRequestContext> {
        let routes = RouteCollection(context: SignedRequestContext.self)
        routes.post("records/:id/central") { _, context -> CentralUploadResponse in
            try await service.begin(try context.decode(CentralUploadRequest.self), recordID: try context.parameters.require("id"), context)
        }
        routes.get("records/:id/central") { _, context -> Response in
            try await service.download(recordID: try context.parameters.require("id"), context)
        }
        return routes
    }

    /// The routes whose request body is streamed, not collected: the signature covers an empty body
    /// and the query, and the bytes are checked by the SHA-256 the announcement committed.
    static func streamed(_ service: CentralService) -> RouteCollection<SignedRequestContext> {
        let routes = RouteCollection(context: SignedRequestContext.self)
        routes.put("uploads/:upload") { request, context -> CentralUploadResponse in
            let text = request.uri.queryParameters.get("offset")
            guard let offset = text.map({ Int64($0) }) ?? 0 else { throw APIError.badRequest("offset must be a whole number of bytes") }
            return try await service.upload(request.body, uploadID: try context.parameters.require("upload"), offset: offset, context)
        }
        return routes
    }
}
