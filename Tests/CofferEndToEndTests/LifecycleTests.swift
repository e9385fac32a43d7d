import CofferClient
import CofferTesting
import Foundation
import Testing

/// Liveness, readiness and draining of both tiers.
@Suite(.serialized) struct LifecycleTests {
    static func probe(_ deployment: LocalDeployment, _ path: String) async throws -> (status: Int, body: String) {
        let address = try ServerAddress(deployment.serverURL.replacingOccurrences(of: "https://127.0.0.1", with: "localhost"))
        return try await KeyServiceClient(server: address, caFile: deployment.caFile, timeout: .seconds(10)).probe(path)
    }

    @Test("both tiers answer liveness and readiness; the transaction tier's readiness follows the database tier")
    func probes() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        let port = try #require(deployment.databaseHealthPorts.first)
        #expect(await PlainHTTP.get(port: port, path: "/live")?.status == 200)
        let ready = await PlainHTTP.get(port: port, path: "/ready")
        #expect(ready?.status == 200, "\(String(describing: ready))")
        #expect(await PlainHTTP.get(port: port, path: "/other")?.status == 404)
        #expect(try await Self.probe(deployment, "/v1/live").status == 200)
        #expect(try await Self.probe(deployment, "/v1/ready").status == 200)

        deployment.database?.killAndReap()
        let notReady = try await Self.probe(deployment, "/v1/ready")
        #expect(notReady.status == 503)
        #expect(notReady.body.contains("database tier unavailable"), "\(notReady.body)")
        #expect(try await Self.probe(deployment, "/v1/live").status == 200, "alive, though not ready")
    }

    /// Whether an established TCP connection to `port` on this host has bytes its owner has not read
    /// (the kernel's `rx_queue` in /proc/net/tcp).
    static func bytesWaiting(toPort port: UInt16) -> Bool {
        guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return false }
        let local = String(format: ":%04X", port)
        return table.split(separator: "\n").dropFirst().contains { line in
            let fields = line.split(separator: " ")
            guard fields.count > 4, fields[1].hasSuffix(local), fields[3] == "01" else { return false }
            return fields[4].split(separator: ":").last.flatMap { Int($0, radix: 16) }.map { $0 > 0 } ?? false
        }
    }

    @Test("SIGTERM drains: a request in flight still gets its answer, and each tier exits within its bound")
    func drain() async throws {
        let deployment = try await LocalDeployment.start(transactionArguments: ["--drain-seconds", "10"])
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("paul")
        let file = deployment.directory + "/memo.txt"
        try Data("memo".utf8).write(to: URL(fileURLWithPath: file))

        let database = try #require(deployment.database)
        let transaction = try #require(deployment.transaction)
        database.signal(SIGSTOP)
        async let inFlight = deployment.coffer(["save", file], user: "paul")
        // SIGTERM once the save is in flight: its request waits, unread, in the frozen database tier's
        // socket. A fixed 700 ms raced a slow client start on a loaded machine; the link may also answer
        // 503 at once when it already counts the frozen peer as down, so at most 5 s are waited for it.
        let port = try #require(deployment.databaseEndpoint.split(separator: ":").last.flatMap { UInt16($0) })
        try await Task.sleep(for: .milliseconds(700))
        for _ in 0..<100 where !Self.bytesWaiting(toPort: port) { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .milliseconds(200))
        transaction.signal(SIGTERM)
        let answered = try await inFlight
        #expect(answered.status == 69, "\(answered.stderr)")
        #expect(answered.stderr.contains("database tier is unavailable"), "the request was answered (503), not cut: \(answered.stderr)")
        // It exits by itself (the drain bound is 10 s; the wait only catches a hang).
        #expect(try await transaction.wait(timeout: .seconds(60)) == 0, "\(transaction.standardError)")
        #expect(transaction.standardError.contains("draining"))

        database.signal(SIGCONT)
        database.signal(SIGTERM)
        #expect(try await database.wait(timeout: .seconds(60)) == 0, "\(database.standardError)")
    }
}
