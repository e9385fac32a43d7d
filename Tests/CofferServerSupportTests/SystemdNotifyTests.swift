@testable import CofferServerSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The readiness message a `Type=notify` unit waits for, sent to the socket systemd names.
@Suite struct SystemdNotifyTests {
    @Test("READY=1 reaches the notify socket; without NOTIFY_SOCKET nothing is sent")
    func notifies() throws {
        let path = NSTemporaryDirectory() + "coffer-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        defer { unlink(path) }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(bound == 0, "\(String(cString: strerror(errno)))")

        #expect(SystemdNotify.send("READY=1\nSTATUS=serving", socketPath: path))
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        #expect(count > 0 && String(decoding: buffer[0..<max(0, count)], as: UTF8.self) == "READY=1\nSTATUS=serving")
        #expect(!SystemdNotify.send("READY=1", socketPath: nil))
        #expect(!SystemdNotify.send("READY=1", socketPath: path + ".missing"))
    }
}
