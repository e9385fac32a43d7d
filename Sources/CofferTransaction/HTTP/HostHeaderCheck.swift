import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Refuses an HTTP/1.1 request without exactly one `Host` header with 400, as RFC 9112 §3.2
/// requires, and closes the connection. HTTP/1.0 requests need none.
///
/// The check needs the HTTP version, which the conversion to HTTP types drops, so it sits in front
/// of that conversion: ``installer()`` puts it there from the place the server lets us add handlers.
final class HostHeaderCheck: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Parts of a refused request are dropped until its end.
    private var refusing = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .head(let head) = part, (head.version.major, head.version.minor) >= (1, 1), head.headers["Host"].count != 1 {
            refusing = true
        }
        guard refusing else {
            context.fireChannelRead(data)
            return
        }
        guard case .end = part else { return }
        let body = Array(#"{"error":{"code":"bad_request","message":"an HTTP/1.1 request needs exactly one Host header"}}"#.utf8)
        var head = HTTPResponseHead(version: .http1_1, status: .badRequest)
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(body.count))
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "Cache-Control", value: "no-store")
        head.headers.add(name: "Strict-Transport-Security", value: "max-age=31536000")
        head.headers.add(name: "X-Content-Type-Options", value: "nosniff")
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    /// A handler for the server's additional handlers that moves a ``HostHeaderCheck`` in front of
    /// the HTTP/1 to HTTP types conversion, then removes itself.
    static func installer() -> Installer { Installer() }

    final class Installer: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = Any

        func handlerAdded(context: ChannelHandlerContext) {
            let pipeline = context.pipeline.syncOperations
            if let codec = try? pipeline.handler(type: HTTP1ToHTTPServerCodec.self) {
                try? pipeline.addHandler(HostHeaderCheck(), position: .before(codec))
            }
            pipeline.removeHandler(context: context, promise: nil)
        }
    }
}
