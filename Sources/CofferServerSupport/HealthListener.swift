import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 listener for service managers' probes and for a metrics scraper, on its own
/// thread: `GET /live` answers 200 while the process runs; `GET /ready` answers 200 or 503 from
/// `ready` (when given); `GET /metrics` answers `metrics()` in Prometheus' text format (when given);
/// `GET /status` answers `status()`, a JSON object for `coffer-admin status` (when given).
///
/// It reads at most one small request per connection, answers, and closes; anything else gets 404.
/// Bind it to a private address: it carries no secrets, but it is not meant for the internet.
public final class HealthListener: Sendable {
    /// The host bound.
    public let host: String
    private let fd: Int32
    /// The port bound (useful when 0 was asked for).
    public let port: Int
    private let ready: (@Sendable () -> (ok: Bool, detail: String))?
    private let metrics: (@Sendable () -> String)?
    private let status: (@Sendable () async -> String)?
    private let stopped = Mutex(false)

    /// Binds `host:port` (port 0 picks one) and starts answering.
    public init(host: String, port: Int, ready: (@Sendable () -> (ok: Bool, detail: String))? = nil,
                metrics: (@Sendable () -> String)? = nil, status: (@Sendable () async -> String)? = nil) throws {
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
        self.host = host
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        self.ready = ready
        self.metrics = metrics
        self.status = status
        let thread = Thread { [self] in serve() }
        thread.name = "coffer-health"
        thread.start()
    }

    /// Binds `endpoint`, `HOST:PORT` (port 0 picks one), and starts answering.
    public convenience init(endpoint: String, ready: (@Sendable () -> (ok: Bool, detail: String))? = nil,
                            metrics: (@Sendable () -> String)? = nil, status: (@Sendable () async -> String)? = nil) throws {
        guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]), (0...65_535).contains(port) else {
            throw HealthListenerError("the address must be HOST:PORT, not \(endpoint)")
        }
        try self.init(host: String(endpoint[..<colon]), port: port, ready: ready, metrics: metrics, status: status)
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
            var contentType = "application/json"
            if line.hasPrefix("GET /live ") {
                (status, body) = ("200 OK", #"{"status":"live"}"#)
            } else if line.hasPrefix("GET /ready "), let ready {
                let state = ready()
                let detail = state.detail.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                (status, body) = (state.ok ? "200 OK" : "503 Service Unavailable", #"{"status":"\#(state.ok ? "ready" : "not ready")","detail":"\#(detail)"}"#)
            } else if line.hasPrefix("GET /metrics "), let metrics {
                (status, body) = ("200 OK", metrics())
                contentType = ServerMetrics.contentType
            } else if line.hasPrefix("GET /status "), let page = self.status {
                (status, body) = ("200 OK", Self.wait(for: page) ?? #"{"status":"no answer within 5 seconds"}"#)
            } else {
                let paths = ["/live"] + (ready == nil ? [] : ["/ready"]) + (metrics == nil ? [] : ["/metrics"]) + (self.status == nil ? [] : ["/status"])
                (status, body) = ("404 Not Found", #"{"status":"unknown path; use \#(paths.joined(separator: " or "))"}"#)
            }
            let response = "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            // A metrics page is larger than one write may take: write until all of it is sent.
            var bytes = Array(response.utf8)[...]
            while !bytes.isEmpty {
                let n = bytes.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                bytes = bytes.dropFirst(n)
            }
            close(client)
        }
    }
}

extension HealthListener {
    /// Runs `work` on the concurrency pool and waits on this listener's own thread (never a pool
    /// thread) for at most five seconds.
    fileprivate static func wait(for work: @escaping @Sendable () async -> String) -> String? {
        let answer = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let text = await work()
            answer.withLock { $0 = text }
            done.signal()
        }
        guard done.wait(timeout: .now() + 5) == .success else { return nil }
        return answer.withLock { $0 }
    }
}

/// A health listener that could not start.
public struct HealthListenerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
