import Foundation
import HTTPTypes
import NIOHTTPTypes
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Bounds the connections one transaction process holds, so that its memory stays bounded (about
/// 40 KiB per idle TLS connection). A connection beyond the bound is still answered: every request
/// on it gets 503 `busy` with `Retry-After`, and the connection is closed.
public final class ConnectionLimit: Sendable {
    /// The most connections held at once.
    public let maximum: Int
    private let open = Atomic<Int>(0)

    public init(maximum: Int) {
        self.maximum = maximum
    }

    /// Connections held now.
    public var current: Int { open.load(ordering: .relaxed) }

    /// Counts a new connection; `false` when it is beyond the bound (and not counted).
    func admit() -> Bool {
        let now = open.add(1, ordering: .relaxed).newValue
        if now <= maximum { return true }
        open.subtract(1, ordering: .relaxed)
        TransactionMetrics.connectionRefused()
        return false
    }

    func release() {
        open.subtract(1, ordering: .relaxed)
    }

    /// The pipeline handler for one connection.
    func handler() -> ConnectionLimitHandler { ConnectionLimitHandler(limit: self) }

    /// Raises this process's soft limit on open files to its hard limit, so that `maximum`
    /// connections can be held; returns the limit in force.
    public static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(clamping: limit.rlim_cur)
    }
}

/// Passes requests through on an admitted connection; answers `busy` on one beyond the bound.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private let limit: ConnectionLimit
    private var admitted = false

    init(limit: ConnectionLimit) {
        self.limit = limit
    }

    func handlerAdded(context: ChannelHandlerContext) {
        admitted = limit.admit()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if admitted { limit.release() }
        admitted = false
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !admitted else {
            context.fireChannelRead(data)
            return
        }
        guard case .end = unwrapInboundIn(data) else { return }
        let body = Array(#"{"error":{"code":"busy","message":"the key service holds as many connections as it may; retry in a few seconds"}}"#.utf8)
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(body.count)
        fields[.retryAfter] = "5"
        fields[.connection] = "close"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .serviceUnavailable, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
