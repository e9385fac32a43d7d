import CofferAPI
import Hummingbird

/// `/v1/save`, `/v1/retrieve`, `/v1/reseal`, `/v1/delete` and `/v1/records`, all signed.
enum FileRoutes {
    static func signed(_ service: FileService) -> RouteCollection<SignedRequestContext> {
        let routes = RouteCollection(context: SignedRequestContext.self)
        routes.post("save") { _, context -> SaveResponse in
            try await service.save(try context.decode(SaveRequest.self), context)
        }
        routes.post("retrieve") { _, context -> RetrieveResponse in
            try await service.retrieve(try context.decode(RetrieveRequest.self), context)
        }
        routes.post("reseal") { _, context -> RecordChangeResponse in
            try await service.confirmReseal(try context.decode(RecordRequest.self), context)
        }
        routes.post("delete") { _, context -> RecordChangeResponse in
            try await service.delete(try context.decode(RecordRequest.self), context)
        }
        routes.get("records") { _, context -> RecordsResponse in
            try await service.records(context)
        }
        return routes
    }
}
