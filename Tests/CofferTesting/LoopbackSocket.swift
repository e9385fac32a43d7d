import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP socket bound to a free port on 127.0.0.1, for tests that need a port nobody else takes:
/// listening (a server that accepts and then does what the test wants), or not (a port that
/// refuses connections for as long as the socket stays bound).
public final class LoopbackSocket: Sendable {
    public let fd: Int32
    public let port: Int

    /// Binds a free port; with `listen`, also listens on it.
    public init(listen: Bool) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound, !listen || Glibc.listen(fd, 16) == 0 else {
            close(fd)
            throw TestError("cannot bind a loopback port")
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}
