import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A TCP listener on a free loopback port that accepts every connection and closes it at once: a
/// server process that vanishes during the TLS handshake. Runs on a thread of its own.
public final class ClosingListener: Sendable {
    public var port: Int { socket.port }
    private let socket: LoopbackSocket
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    public init() throws {
        socket = try LoopbackSocket(listen: true)
        let fd = socket.fd
        let thread = Thread { [self] in
            while !stopping.load(ordering: .relaxed) {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 100) > 0 else { continue }
                let client = accept(fd, nil, nil)
                if client >= 0 { Self.closeCleanly(client) }
            }
            done.signal()
        }
        thread.start()
    }

    /// Ends the connection with a FIN the peer reads as "closed", never a reset: closing a socket
    /// whose receive buffer holds the peer's unread ClientHello sends RST instead, and which of the
    /// two the client saw depended on whether its hello had arrived yet. So: shut down the sending
    /// side, read until the peer closes too (or 2 s pass), then close.
    private static func closeCleanly(_ client: Int32) {
        shutdown(client, Int32(SHUT_WR))
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline {
            var poller = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            if read(client, &buffer, buffer.count) <= 0 { break }
        }
        close(client)
    }

    /// Stops accepting; later calls do nothing. The port closes with the listener.
    public func stop() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        done.wait()
    }
}
