import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Tells systemd how the service is doing, for `Type=notify` units (deploy/systemd): `READY=1` once
/// the tier serves, `STOPPING=1` when it begins to drain. Does nothing when systemd did not start
/// the process (no `NOTIFY_SOCKET`), so the tiers run the same anywhere else.
public enum SystemdNotify {
    /// The service is ready; `status` is shown by `systemctl status`.
    public static func ready(status: String) { send("READY=1\nSTATUS=\(status)") }

    /// The service begins a graceful shutdown.
    public static func stopping() { send("STOPPING=1") }

    /// Sends `message` to `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace); `false`
    /// when there is none or it cannot be reached.
    @discardableResult
    static func send(_ message: String, socketPath: String? = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"]) -> Bool {
        guard let socketPath, !socketPath.isEmpty else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, length) }
        }
        return sent == bytes.count
    }
}
