import CofferAPI
import Hummingbird

/// `/v1/identity`, `/v1/register`, `/v1/login` (open), and `/v1/logout`, `/v1/password` (signed).
enum AccountRoutes {
    /// The endpoints anyone may call.
    static func open(_ service: AccountService) -> RouteCollection<CofferRequestContext> {
        let routes = RouteCollection(context: CofferRequestContext.self)
        routes.post("identity") { request, _ -> IdentityResponse in
            try await service.identity(try await RequestBody.decode(IdentityRequest.self, from: request))
        }
        routes.post("register") { request, context -> EditedResponse<RegisterResponse> in
            let body = try await RequestBody.decode(RegisterRequest.self, from: request)
            return EditedResponse(status: .created, response: try await service.register(body, source: context.source))
        }
        routes.post("login") { request, context -> LoginResponse in
            try await service.login(try await RequestBody.decode(LoginRequest.self, from: request), source: context.source)
        }
        return routes
    }

    /// The endpoints of a session.
    static func signed(_ service: AccountService) -> RouteCollection<SignedRequestContext> {
        let routes = RouteCollection(context: SignedRequestContext.self)
        routes.post("logout") { _, context -> LogoutResponse in
            try await service.logout(try context.decode(LogoutRequest.self), context)
        }
        routes.post("password") { _, context -> PasswordChangeResponse in
            try await service.changePassword(try context.decode(PasswordChangeRequest.self), context)
        }
        return routes
    }
}
