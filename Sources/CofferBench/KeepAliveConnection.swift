import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One TLS connection to the transaction tier that carries many HTTP/1.1 requests in turn, as a
/// long-running client would hold it.
struct KeepAliveConnection {
    struct Reply {
        let status: Int
        let body: [UInt8]
    }

    typealias Channel = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    /// Opens a TLS connection to `host:port`, verified against `sslContext`'s trust roots.
    static func connect(host: String, port: Int, sslContext: NIOSSLContext) async throws -> Channel {
        let isIP = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        let hostname: String? = isIP ? nil : host
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(30))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: hostname))
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try Channel(wrappingChannelSynchronously: channel)
                }
            }
    }

    private var responses: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    private let requests: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    private let host: String

    /// Wraps the two halves of an open connection (inside `executeThenClose`).
    init(inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>, outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>, host: String) {
        self.responses = inbound.makeAsyncIterator()
        self.requests = outbound
        self.host = host
    }

    /// Sends one request and reads its whole answer.
    mutating func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)], body: [UInt8]) async throws -> Reply {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: host)
        head.headers.add(name: "User-Agent", value: "coffer-bench/1")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(body.count))
        try await requests.write(contentsOf: [.head(head), .body(.byteBuffer(ByteBuffer(bytes: body))), .end(nil)])
        var status = 0
        var collected: [UInt8] = []
        while let part = try await responses.next() {
            switch part {
            case .head(let h): status = Int(h.status.code)
            case .body(var buffer): collected += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end: return Reply(status: status, body: collected)
            }
        }
        throw BenchError("the transaction tier closed the connection before answering \(path)")
    }
}

/// A failure of the benchmark itself.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
