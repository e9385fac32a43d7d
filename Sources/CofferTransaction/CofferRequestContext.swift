public import Hummingbird
public import NIOCore

/// The request context of the HTTPS API: Hummingbird's core storage plus the peer address.
public struct CofferRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address, for the audit history.
    public let source: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.source = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Request bodies are small JSON documents.
    public var maxUploadSize: Int { 64 * 1024 }
}
