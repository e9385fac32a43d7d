import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A TCP listener on a free loopback port that accepts every connection and closes it at once: a
/// server process that vanishes during the TLS handshake. Runs on a thread of its own.
public final class ClosingListener: Sendable {
    public let port: Int
    private let fd: Int32
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok, listen(fd, 16) == 0 else {
            close(fd)
            throw TestError("cannot listen on loopback")
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in
            while !stopping.load(ordering: .relaxed) {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 100) > 0 else { continue }
                let client = accept(fd, nil, nil)
                if client >= 0 { close(client) }
            }
            done.signal()
        }
        thread.start()
    }

    /// Stops accepting and closes the port; later calls do nothing.
    public func stop() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        done.wait()
        close(fd)
    }
}
