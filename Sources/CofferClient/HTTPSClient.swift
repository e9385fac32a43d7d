import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// A small HTTPS/1.1 client for the key service: one request per connection, TLS 1.2+ verified
/// against the deployment's CA, bounded in time.
///
/// It fails over to the deployment's next address whenever nothing was sent: the connection was
/// refused, or the TLS handshake failed (the request goes out only once the handshake completed).
/// Once the request was sent, a lost answer is ``NoAnswer``: the caller decides whether sending it
/// again is safe.
struct HTTPSClient: Sendable {
    struct Reply: Sendable {
        let status: Int
        let headers: [(String, String)]
        let body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    /// The request went out to `server` but no complete answer came back: it may or may not have
    /// been applied.
    struct NoAnswer: Error, Sendable {
        /// The index in ``HTTPSClient/servers`` of the server that took the request.
        let serverIndex: Int
        /// What happened, in words.
        let message: String
    }

    /// What a request sends after its head.
    enum Body: Sendable {
        /// A JSON document.
        case json([UInt8])
        /// `length` bytes of an open file from `offset`, read and sent piece by piece (an upload).
        case file(fd: Int32, offset: Int64, length: Int64, progress: @Sendable (Int64) -> Void)
    }

    /// Where a successful answer's body goes when it is not collected: called with each piece, in
    /// order (a download). Error answers are always collected.
    typealias BodySink = @Sendable (ByteBuffer) throws -> Void

    /// The deployment's name: sessions, pins and the audit journal are kept under it.
    let server: ServerAddress
    /// Every address of the deployment, `server` first; connecting fails over in this order.
    let servers: [ServerAddress]
    let sslContext: NIOSSLContext
    let caFile: String
    let connectTimeout: TimeAmount
    let requestTimeout: Duration
    static let maxReplySize = 8 << 20

    /// - Parameter alternates: Other transaction processes of the same deployment, tried in order when
    ///   `server` cannot take the request.
    init(server: ServerAddress, alternates: [ServerAddress] = [], caFile: String, connectTimeout: TimeAmount = .seconds(5), requestTimeout: Duration = .seconds(9)) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        do {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            self.sslContext = try NIOSSLContext(configuration: tls)
        } catch {
            throw ClientError(.configuration, "cannot read the CA certificate \(caFile): it is not a PEM certificate; set --ca or COFFER_CA")
        }
        self.server = server
        self.servers = [server] + alternates.filter { $0 != server }
        self.caFile = caFile
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
    }

    /// Sends one request, trying the servers in order from `first` (wrapping around) until one
    /// completes a TLS handshake; returns its answer.
    ///
    /// - Throws: ``NoAnswer`` once the request was sent and no answer came; a ``ClientError`` when
    ///   no server took it, or the whole exchange took longer than the request timeout.
    func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil, first: Int = 0) async throws -> Reply {
        try await send(method, path, headers: headers, body: body.map(Body.json), sink: nil, first: first)
    }

    /// Sends one request whose body may be a file and whose answer may be streamed to `sink`.
    ///
    /// The request timeout then bounds the time without progress, not the whole exchange: a large
    /// upload or download may take as long as it keeps moving.
    func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)], body: Body?, sink: BodySink?, first: Int = 0) async throws -> Reply {
        let progress = ProgressClock()
        return try await withThrowingTaskGroup(of: Reply.self) { group in
            group.addTask { try await self.exchange(method, path, headers: headers, body: body, sink: sink, progress: progress, first: first) }
            group.addTask {
                while true {
                    let idle = progress.idle
                    if idle >= requestTimeout { break }
                    try await Task.sleep(for: requestTimeout - idle)
                }
                let moving = body.map { if case .file = $0 { true } else { false } } ?? false || sink != nil
                throw ClientError(.unavailable, "the key service at \(server) did not answer within \(requestTimeout)\(moving ? " of the last progress" : ""); try again later")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    private func exchange(_ method: HTTPMethod, _ path: String, headers extraHeaders: [(String, String)], body: Body?, sink: BodySink?,
                          progress: ProgressClock, first: Int) async throws -> Reply {
        var failures: [String] = []
        var certificateProblem = false
        var connected: (channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>, index: Int)?
        for offset in 0..<servers.count {
            let index = (first + offset) % servers.count
            do {
                connected = (try await connect(servers[index]), index)
                break
            } catch {
                let (words, certificate) = Self.describe(error, caFile: caFile)
                certificateProblem = certificateProblem || certificate
                failures.append("\(servers[index]): \(words)")
            }
        }
        guard let (channel, index) = connected else {
            let hint = certificateProblem ? "check that --ca is the deployment's CA certificate" : "check --server and that the service is running"
            throw ClientError(.unavailable, "cannot reach the key service (\(failures.joined(separator: "; "))); nothing was sent; \(hint)")
        }
        let server = servers[index]
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
                head.headers.add(name: "Host", value: server.description)
                head.headers.add(name: "User-Agent", value: "coffer/1")
                head.headers.add(name: "Connection", value: "close")
                for (name, value) in extraHeaders { head.headers.add(name: name, value: value) }
                switch body {
                case .json(let bytes):
                    head.headers.add(name: "Content-Type", value: "application/json")
                    head.headers.add(name: "Content-Length", value: String(bytes.count))
                case .file(_, _, let length, _):
                    head.headers.add(name: "Content-Type", value: "application/octet-stream")
                    head.headers.add(name: "Content-Length", value: String(length))
                case nil:
                    break
                }
                try await outbound.write(.head(head))
                switch body {
                case .json(let bytes):
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
                case .file(let fd, let offset, let length, let report):
                    try await Self.sendFile(fd: fd, offset: offset, length: length, to: outbound, progress: progress, report: report)
                case nil:
                    break
                }
                try await outbound.write(.end(nil))

                var status = 0
                var headers: [(String, String)] = []
                var collected: [UInt8] = []
                var streaming = false
                for try await part in inbound {
                    progress.moved()
                    switch part {
                    case .head(let h):
                        status = Int(h.status.code)
                        headers = h.headers.map { ($0.name, $0.value) }
                        streaming = sink != nil && (200..<300).contains(status)
                    case .body(let buffer) where streaming:
                        try sink?(buffer)
                    case .body(var buffer):
                        guard collected.count + buffer.readableBytes <= Self.maxReplySize else {
                            throw ClientError(.software, "the key service sent an oversized answer")
                        }
                        collected += buffer.readBytes(length: buffer.readableBytes) ?? []
                    case .end:
                        return Reply(status: status, headers: headers, body: collected)
                    }
                }
                throw NoAnswer(serverIndex: index, message: "the key service at \(server) closed the connection after the request was sent, before answering")
            }
        } catch let error as ClientError {
            throw error
        } catch let error as NoAnswer {
            throw error
        } catch {
            throw NoAnswer(serverIndex: index, message: "the key service at \(server) \(Self.describe(error, caFile: caFile).words) after the request was sent, before answering")
        }
    }

    /// Sends `length` bytes of `fd` from `offset`, 256 KiB at a time, as the connection takes them.
    private static func sendFile(fd: Int32, offset: Int64, length: Int64, to outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>,
                                 progress: ProgressClock, report: @Sendable (Int64) -> Void) async throws {
        var sent: Int64 = 0
        var piece = [UInt8](repeating: 0, count: 256 * 1024)
        while sent < length {
            let want = Int(min(Int64(piece.count), length - sent))
            let n = piece.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, want, off_t(offset + sent)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw ClientError(.ioError, n == 0 ? "the container ended before its \(length) bytes were sent; it changed while it was being uploaded"
                                                   : "cannot read the container: \(String(cString: strerror(errno)))")
            }
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: piece[0..<n]))))
            sent += Int64(n)
            progress.moved()
            report(sent)
            if sent >= length / 2 { FaultInjection.point("mid-upload", after: 2) }
        }
    }

    /// Opens a TLS connection to one address and completes the handshake; the certificate must name
    /// the address. Nothing is sent before this returns.
    private func connect(_ address: ServerAddress) async throws -> NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart> {
        let sslContext = self.sslContext
        let isIP = (try? SocketAddress(ipAddress: address.host, port: 0)) != nil
        let hostname: String? = isIP ? nil : address.host
        let handshakeTimeout = connectTimeout
        let (channel, handshake) = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(connectTimeout)
            .connect(host: address.host, port: address.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: hostname))
                    let waiter = HandshakeWaiter(promise: channel.eventLoop.makePromise())
                    try channel.pipeline.syncOperations.addHandler(waiter)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    let async = try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    // A server that accepts but never answers the handshake is given up on, like one
                    // that does not accept: nothing was sent yet.
                    let timeout = channel.eventLoop.scheduleTask(in: handshakeTimeout) {
                        waiter.give(up: HandshakeWaiter.TimedOut())
                        channel.close(promise: nil)
                    }
                    waiter.promise.futureResult.whenComplete { _ in timeout.cancel() }
                    return (async, waiter.promise.futureResult)
                }
            }
        do {
            try await withTaskCancellationHandler {
                try await handshake.get()
            } onCancel: {
                channel.channel.close(promise: nil)
            }
        } catch {
            try? await channel.executeThenClose { _, _ in }
            throw error
        }
        return channel
    }

    /// What went wrong, in words, and whether it was the server's certificate.
    static func describe(_ error: any Error, caFile: String) -> (words: String, certificate: Bool) {
        switch error {
        case let error as IOError:
            switch error.errnoCode {
            case ECONNREFUSED: return ("refused the connection", false)
            case ECONNRESET, EPIPE: return ("reset the connection", false)
            case ETIMEDOUT: return ("did not answer in time", false)
            case EHOSTUNREACH, ENETUNREACH: return ("is unreachable", false)
            default: return ("failed: \(String(cString: strerror(error.errnoCode)))", false)
            }
        case ChannelError.connectTimeout:
            return ("did not accept a connection in time", false)
        case is HandshakeWaiter.TimedOut:
            return ("did not answer the TLS handshake in time", false)
        case is HandshakeWaiter.Closed, ChannelError.eof, ChannelError.ioOnClosedChannel, ChannelError.outputClosed, ChannelError.alreadyClosed:
            return ("closed the connection", false)
        case NIOSSLError.uncleanShutdown:
            return ("closed the connection", false)
        case NIOSSLError.handshakeFailed(let reason):
            if "\(reason)".contains("CERTIFICATE_VERIFY_FAILED") {
                return ("its certificate does not verify against the CA certificate \(caFile)", true)
            }
            return ("closed the connection during the TLS handshake", false)
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            return ("its certificate is not for this host name", true)
        case let error as NIOConnectionError:
            // Every address the name resolved to failed: say why the first did.
            if let first = error.connectionErrors.first { return describe(first.error, caFile: caFile) }
            if error.dnsAAAAError != nil || error.dnsAError != nil { return ("is a host name that does not resolve", false) }
            return ("cannot be connected to", false)
        case is SocketAddressError:
            return ("is a host name that does not resolve", false)
        case let error as ClientError:
            return (error.message, false)
        default:
            return ("failed (\(type(of: error)))", false)
        }
    }
}

/// When an exchange last moved (a piece sent or received), for the timeout without progress.
final class ProgressClock: Sendable {
    private let last = Mutex(ContinuousClock.now)

    func moved() { last.withLock { $0 = .now } }

    /// How long since it last moved.
    var idle: Duration { ContinuousClock.now - last.withLock { $0 } }
}

/// Completes its promise when the TLS handshake has completed, or fails it when the handshake
/// fails or the connection closes first.
final class HandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The connection closed before the handshake completed.
    struct Closed: Error {}
    /// The server did not complete the handshake in time.
    struct TimedOut: Error {}

    let promise: EventLoopPromise<Void>
    private var done = false

    init(promise: EventLoopPromise<Void>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { finish(nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(Closed())
        context.fireChannelInactive()
    }

    /// A connection attempt that never became active (happy eyeballs tries several) ends here.
    func handlerRemoved(context: ChannelHandlerContext) {
        finish(Closed())
    }

    /// Fails the wait, on the channel's event loop.
    func give(up error: any Error) { finish(error) }

    private func finish(_ error: (any Error)?) {
        guard !done else { return }
        done = true
        if let error { promise.fail(error) } else { promise.succeed(()) }
    }
}
