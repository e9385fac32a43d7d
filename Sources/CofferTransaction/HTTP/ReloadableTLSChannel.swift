import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// The TLS context new connections get: replaced when the certificate and key are reloaded
/// (SIGHUP), while connections already open keep the one they began with.
final class TLSContextBox: Sendable {
    private let current: Mutex<NIOSSLContext>

    init(_ configuration: TLSConfiguration) throws {
        current = Mutex(try NIOSSLContext(configuration: configuration))
    }

    var context: NIOSSLContext { current.withLock { $0 } }

    /// Makes a context from `configuration` and uses it from the next connection on; throws, and
    /// keeps the one in force, when the configuration does not make one.
    func replace(with configuration: TLSConfiguration) throws {
        let context = try NIOSSLContext(configuration: configuration)
        current.withLock { $0 = context }
    }
}

/// Hummingbird's TLS child channel, with the context read from a ``TLSContextBox`` at each
/// connection instead of fixed at start.
struct ReloadableTLSChannel<BaseChannel: ServerChildChannel>: ServerChildChannel {
    typealias Value = BaseChannel.Value

    let base: BaseChannel
    let contexts: TLSContextBox

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: contexts.context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: BaseChannel.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension ReloadableTLSChannel: HTTPChannelHandler where BaseChannel: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 over TLS whose certificate and key can be replaced while serving.
    static func reloadableTLS(_ configuration: HTTP1Channel.Configuration, contexts: TLSContextBox) -> HTTPServerBuilder {
        .init { responder in
            ReloadableTLSChannel(base: HTTP1Channel(responder: responder, configuration: configuration), contexts: contexts)
        }
    }
}
