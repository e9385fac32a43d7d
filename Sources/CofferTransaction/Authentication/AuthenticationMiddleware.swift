import CofferAPI
import CofferWire
import Foundation
import HTTPTypes
import Hummingbird

/// Authenticates every request of the routes behind it — session token, device signature, and the
/// replay guard the database tier checks — and hands them a ``SignedRequestContext``. No route
/// repeats any of it; a request that fails gets the 401 that says why.
///
/// With `streamsBody`, the body is left unread for the route to stream (an upload's bytes): the
/// signature then covers an empty body, and the route checks the bytes some other way.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = CofferRequestContext
    let authenticator: RequestAuthenticator
    var streamsBody = false

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let body = streamsBody ? [] : try await RequestBody.collect(request)
        let header = { (name: String) in HTTPField.Name(name).flatMap { request.headers[$0] } }
        var headers = RequestAuthenticator.Headers(time: header(RequestSignature.timeHeader), nonce: header(RequestSignature.nonceHeader),
                                                   signature: header(RequestSignature.signatureHeader))
        if let value = request.headers[.authorization], value.hasPrefix("Bearer ") { headers.bearer = String(value.dropFirst(7)) }
        var context = context
        context.authenticated = try await authenticator.authenticate(
            method: request.method.rawValue, path: request.uri.string, body: body, headers: headers, nowMs: Clock.nowMs()
        )
        return try await next(request, context)
    }
}

/// The context of a route behind ``AuthenticationMiddleware``: who signed it, and its body.
struct SignedRequestContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The peer's IP address, for the audit history.
    let source: String
    let session: Session
    let replayGuard: Coffer_Wire_V1_ReplayGuard
    let body: [UInt8]

    init(context: CofferRequestContext) throws {
        guard let authenticated = context.authenticated else { throw APIError.unauthorized }
        self.coreContext = context.coreContext
        self.source = context.source
        self.session = authenticated.session
        self.replayGuard = authenticated.replayGuard
        self.body = authenticated.body
    }

    /// The body as this endpoint's JSON, or 400.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try RequestBody.decode(type, from: body)
    }

    /// Request bodies are small JSON documents.
    var maxUploadSize: Int { APIRoutes.maxBody }
}
