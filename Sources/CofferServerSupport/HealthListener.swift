import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 listener for service managers' probes, on its own thread:
/// `GET /live` answers 200 while the process runs; `GET /ready` answers 200 or 503 from `ready`.
///
/// It reads at most one small request per connection, answers, and closes; anything else gets 404.
/// Bind it to a private address: it carries no secrets, but it is not meant for the internet.
public final class HealthListener: Sendable {
    private let fd: Int32
    /// The port bound (useful when 0 was asked for).
    public let port: Int
    private let ready: @Sendable () -> (ok: Bool, detail: String)
    private let stopped = Mutex(false)

    /// Binds `host:port` (port 0 picks one) and starts answering.
    public init(host: String, port: Int, ready: @escaping @Sendable () -> (ok: Bool, detail: String)) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HealthListenerError("cannot create a socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(fd)
            throw HealthListenerError("the health address \(host) is not an IPv4 address")
        }
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 16) == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw HealthListenerError("cannot listen on \(host):\(port) for health probes: \(why)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        self.ready = ready
        let thread = Thread { [self] in serve() }
        thread.name = "coffer-health"
        thread.start()
    }

    /// Stops answering and closes the socket.
    public func stop() {
        guard !stopped.withLock({ let was = $0; $0 = true; return was }) else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    private func serve() {
        while !stopped.withLock({ $0 }) {
            let client = accept(fd, nil, nil)
            guard client >= 0 else {
                if errno == EINTR { continue }
                return
            }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 1024)
            let count = read(client, &buffer, buffer.count)
            let line = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\r\n").first.map(String.init) ?? "" : ""
            let (status, body): (String, String)
            if line.hasPrefix("GET /live ") {
                (status, body) = ("200 OK", #"{"status":"live"}"#)
            } else if line.hasPrefix("GET /ready ") {
                let state = ready()
                let detail = state.detail.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                (status, body) = (state.ok ? "200 OK" : "503 Service Unavailable", #"{"status":"\#(state.ok ? "ready" : "not ready")","detail":"\#(detail)"}"#)
            } else {
                (status, body) = ("404 Not Found", #"{"status":"unknown path; use /live or /ready"}"#)
            }
            let response = "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            _ = response.withCString { write(client, $0, strlen($0)) }
            close(client)
        }
    }
}

/// A health listener that could not start.
public struct HealthListenerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
