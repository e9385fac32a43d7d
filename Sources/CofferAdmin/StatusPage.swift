import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads `GET /status` from a process's operator listener (`HOST:PORT`, plain HTTP on a private
/// address), on a thread of its own: the calls block, and the concurrency pool must not.
enum StatusPage {
    /// The body of a 200 answer, or why there is none.
    static func fetch(_ endpoint: String, timeout: Duration) async -> Result<String, AdminError> {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: get(endpoint, timeout: timeout)) }
            thread.name = "coffer-admin-status"
            thread.start()
        }
    }

    private static func get(_ endpoint: String, timeout: Duration) -> Result<String, AdminError> {
        guard let colon = endpoint.lastIndex(of: ":"), let port = UInt16(endpoint[endpoint.index(after: colon)...]) else {
            return .failure(AdminError("\(endpoint) is not HOST:PORT"))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(port.bigEndian)
        guard inet_pton(AF_INET, String(endpoint[..<colon]), &address.sin_addr) == 1 else {
            return .failure(AdminError("\(endpoint): the host must be an IPv4 address"))
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .failure(AdminError("cannot create a socket: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        // Connecting takes `timeout`; the answer may take longer, as the listener gives the process
        // five seconds to say whether its database tier answers.
        var connectLimit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        var answerLimit = timeval(tv_sec: max(Int(timeout.components.seconds), 7), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &connectLimit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &answerLimit, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { return .failure(AdminError("cannot reach \(endpoint): \(String(cString: strerror(errno)))")) }
        let request = Array("GET /status HTTP/1.1\r\nHost: \(endpoint)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == request.count else {
            return .failure(AdminError("cannot ask \(endpoint): \(String(cString: strerror(errno)))"))
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while answer.count < 1 << 20 {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return .failure(AdminError("no answer from \(endpoint) within \(answerLimit.tv_sec) s")) }
            if n == 0 { break }
            answer += buffer[0..<n]
        }
        let text = String(decoding: answer, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return .failure(AdminError("\(endpoint) gave no HTTP answer")) }
        guard text.hasPrefix("HTTP/1.1 200 ") else {
            return .failure(AdminError("\(endpoint) answered \(text.prefix { $0 != "\r" }): is it a transaction process's metrics listener?"))
        }
        return .success(String(text[split.upperBound...]))
    }
}
