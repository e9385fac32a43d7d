import CofferTesting
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `Type=notify` for real: a tier started with `NOTIFY_SOCKET` says READY=1 once it serves and
/// STOPPING=1 when it begins to drain, as the units in deploy/systemd expect.
@Suite(.serialized) struct SystemdReadinessTests {
    @Test("the transaction tier sends READY=1 with its address once it serves, and STOPPING=1 on SIGTERM")
    func notifies() async throws {
        let path = NSTemporaryDirectory() + "coffer-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        defer { unlink(path) }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        try #require(bound == 0)
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        func receive() -> String {
            var buffer = [UInt8](repeating: 0, count: 512)
            let count = recv(fd, &buffer, buffer.count, 0)
            return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : ""
        }

        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        let address2 = try await deployment.startAnotherTransaction(environment: ["NOTIFY_SOCKET": path])
        let ready = receive()
        #expect(ready.hasPrefix("READY=1\nSTATUS=serving https://"), "\(ready)")
        #expect(ready.hasSuffix(String(address2.split(separator: ":").last ?? "")), "\(ready) for \(address2)")
        let process = try #require(deployment.moreTransactions.first?.process)
        process.signal(SIGTERM)
        #expect(receive() == "STOPPING=1")
        _ = try await process.wait(timeout: .seconds(30))
    }
}
