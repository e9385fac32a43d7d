public import Hummingbird
import NIOCore

/// The request context of the HTTPS API: Hummingbird's core storage plus the peer address, and
/// once ``AuthenticationMiddleware`` checked it, the request's session.
public struct CofferRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address, for the audit history.
    public let source: String
    /// The checked session, replay guard and body of a signed request.
    var authenticated: Authenticated?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.source = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Request bodies are small JSON documents.
    public var maxUploadSize: Int { APIRoutes.maxBody }
}
