import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the built binaries are, and scratch folders for a test.
public enum TestEnvironment {
    /// The folder with `coffer`, `coffer-transaction`, `coffer-database`, `coffer-admin`:
    /// `$COFFER_BIN_DIR`, else the folder of the running test bundle.
    public static var binaryDirectory: String {
        if let dir = ProcessInfo.processInfo.environment["COFFER_BIN_DIR"] { return dir }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().path
    }

    /// The path of a built binary.
    public static func binary(_ name: String) -> String { binaryDirectory + "/" + name }

    /// A fresh folder under the system's temporary folder.
    public static func makeTemporaryDirectory(_ label: String) throws -> String {
        let path = NSTemporaryDirectory() + "coffer-test-\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The PostgreSQL server URL for integration tests (`COFFER_TEST_POSTGRES_URL`), if any.
    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["COFFER_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether PostgreSQL tests must run (CI sets `COFFER_REQUIRE_POSTGRES=1` so they cannot be skipped silently).
    public static var postgresRequired: Bool {
        ProcessInfo.processInfo.environment["COFFER_REQUIRE_POSTGRES"] == "1"
    }

    /// Creates a fresh database on the test PostgreSQL server and returns its URL.
    public static func makePostgresDatabase() async throws -> String {
        guard let base = postgresURL else { throw TestError("COFFER_TEST_POSTGRES_URL is not set") }
        let name = "coffer_t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        let logs = try makeTemporaryDirectory("psql")
        let psql = try TestProcess(
            "/usr/bin/psql", [base, "-v", "ON_ERROR_STOP=1", "-q", "-c", "CREATE DATABASE \(name)"],
            environment: ["PATH": "/usr/bin:/bin"], logDirectory: logs
        )
        guard try await psql.wait(timeout: .seconds(30)) == 0 else {
            throw TestError("cannot create a test database: \(psql.standardError)")
        }
        guard let slash = base.lastIndex(of: "/") else { throw TestError("COFFER_TEST_POSTGRES_URL has no database name") }
        var rest = ""
        if let q = base[slash...].firstIndex(of: "?") { rest = String(base[q...]) }
        return String(base[...slash]) + name + rest
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago.
    /// A free loopback port `p` such that `p + offset` is free too for each of `offsets`: for a
    /// program that derives the ports of its other listeners from the one it is given (deploy/local).
    public static func freePort(alsoFree offsets: [Int]) throws -> Int {
        for _ in 0..<100 {
            let port = try freePort()
            if offsets.allSatisfy({ port + $0 < 65_536 && isFree(port + $0) }) { return port }
        }
        throw TestError("cannot find a free port with free ports at \(offsets) beside it")
    }

    /// Whether a loopback port can be bound now.
    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 } }
    }

    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw TestError("cannot find a free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
