import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A small HTTPS/1.1 client for the key service: one request per connection, TLS 1.2+ verified
/// against the deployment's CA, bounded in time.
struct HTTPSClient: Sendable {
    struct Reply: Sendable {
        let status: Int
        let headers: [(String, String)]
        let body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    /// The deployment's name: sessions, pins and the audit journal are kept under it.
    let server: ServerAddress
    /// Every address of the deployment, `server` first; connecting fails over in this order.
    let servers: [ServerAddress]
    let sslContext: NIOSSLContext
    let connectTimeout: TimeAmount
    let requestTimeout: Duration
    static let maxReplySize = 8 << 20

    /// - Parameter alternates: Other transaction processes of the same deployment, tried in order when
    ///   connecting to `server` fails. Only a failed connection fails over: once a request was sent,
    ///   it is never sent elsewhere, so nothing runs twice.
    init(server: ServerAddress, alternates: [ServerAddress] = [], caFile: String, connectTimeout: TimeAmount = .seconds(5), requestTimeout: Duration = .seconds(9)) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        do {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            self.sslContext = try NIOSSLContext(configuration: tls)
        } catch {
            throw ClientError(.configuration, "cannot read the CA certificate \(caFile): \(error); set --ca or COFFER_CA")
        }
        self.server = server
        self.servers = [server] + alternates.filter { $0 != server }
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
    }

    func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> Reply {
        try await withThrowingTaskGroup(of: Reply.self) { group in
            group.addTask { try await self.exchange(method, path, headers: headers, body: body) }
            group.addTask {
                try await Task.sleep(for: requestTimeout)
                throw ClientError(.unavailable, "the key service at \(server) did not answer within \(requestTimeout); try again later")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    private func exchange(_ method: HTTPMethod, _ path: String, headers extraHeaders: [(String, String)], body: [UInt8]?) async throws -> Reply {
        var failures: [String] = []
        var connected: (channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>, address: ServerAddress)?
        for address in servers {
            do {
                connected = (try await connect(address), address)
                break
            } catch {
                failures.append("\(address): \(Self.describe(error))")
            }
        }
        guard let (channel, server) = connected else {
            throw ClientError(.unavailable, "cannot reach the key service at \(failures.joined(separator: "; ")); check --server and that the service is running")
        }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
                head.headers.add(name: "Host", value: server.description)
                head.headers.add(name: "User-Agent", value: "coffer/1")
                head.headers.add(name: "Connection", value: "close")
                for (name, value) in extraHeaders { head.headers.add(name: name, value: value) }
                if let body {
                    head.headers.add(name: "Content-Type", value: "application/json")
                    head.headers.add(name: "Content-Length", value: String(body.count))
                }
                try await outbound.write(.head(head))
                if let body { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                try await outbound.write(.end(nil))

                var status = 0
                var headers: [(String, String)] = []
                var collected: [UInt8] = []
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        status = Int(h.status.code)
                        headers = h.headers.map { ($0.name, $0.value) }
                    case .body(var buffer):
                        guard collected.count + buffer.readableBytes <= Self.maxReplySize else {
                            throw ClientError(.software, "the key service sent an oversized answer")
                        }
                        collected += buffer.readBytes(length: buffer.readableBytes) ?? []
                    case .end:
                        return Reply(status: status, headers: headers, body: collected)
                    }
                }
                throw ClientError(.unavailable, "the key service at \(server) closed the connection before answering")
            }
        } catch let error as ClientError {
            throw error
        } catch let error as NIOSSLError {
            throw ClientError(.unavailable, "TLS with \(server) failed: \(error); check that --ca is the deployment's CA certificate")
        } catch {
            throw ClientError(.unavailable, "the exchange with the key service at \(server) failed: \(Self.describe(error))")
        }
    }

    /// Opens a TLS connection to one address; the certificate must name it.
    private func connect(_ address: ServerAddress) async throws -> NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart> {
        let sslContext = self.sslContext
        let isIP = (try? SocketAddress(ipAddress: address.host, port: 0)) != nil
        let hostname: String? = isIP ? nil : address.host
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(connectTimeout)
            .connect(host: address.host, port: address.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: hostname))
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
    }

    private static func describe(_ error: any Error) -> String {
        if let e = error as? IOError { return e.description }
        return "\(error)"
    }
}
