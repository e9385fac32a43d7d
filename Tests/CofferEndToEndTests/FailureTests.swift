import CofferTesting
import CofferWire
import CofferZMQ
import Foundation
import Logging
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Dead peers and hostile peers, with the real processes.
@Suite(.serialized) struct FailureTests {
    @Test("an unreachable transaction tier gives a clear error and exit 69, not a hang")
    func transactionUnreachable() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        var environment = deployment.clientEnvironment(user: "dave")
        environment["COFFER_SERVER"] = "127.0.0.1:\(try TestEnvironment.freePort())"
        let process = try TestProcess(TestEnvironment.binary("coffer"), ["login", "--password-stdin"], environment: environment,
                                      stdin: Array("whatever password\n".utf8), logDirectory: deployment.directory)
        #expect(try await process.wait(timeout: .seconds(10)) == 69)
        #expect(process.standardError.contains("cannot reach the key service"))
    }

    @Test("a transaction tier that accepts but never answers gives a clear error within 10 s")
    func transactionSilent() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        let listener = try LoopbackSocket(listen: true)
        var environment = deployment.clientEnvironment(user: "dave")
        environment["COFFER_SERVER"] = "127.0.0.1:\(listener.port)"
        let process = try TestProcess(TestEnvironment.binary("coffer"), ["login", "--password-stdin"], environment: environment,
                                      stdin: Array("whatever password\n".utf8), logDirectory: deployment.directory)
        #expect(try await process.wait(timeout: .seconds(12)) == 69)
        #expect(process.standardError.contains("did not answer"))
    }

    @Test("with the database tier down the transaction tier answers 503 with a clear message, and recovers when it returns")
    func databaseDownAndBack() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("erin")
        let file = deployment.directory + "/f.txt"
        try Data("hello".utf8).write(to: URL(fileURLWithPath: file))
        let endpoint = deployment.databaseEndpoint
        await deployment.database?.stop()

        let down = try await deployment.coffer(["save", file, "-o", file + ".1"], user: "erin", timeout: .seconds(20))
        #expect(down.status == 69, "\(down.stderr)")
        #expect(down.stderr.contains("database tier is unavailable"))
        #expect(!FileManager.default.fileExists(atPath: file + ".1"))

        try await deployment.startDatabase(endpoint: endpoint)
        var recovered = false
        for _ in 0..<40 where !recovered {
            recovered = try await deployment.coffer(["save", file, "-o", file + ".2", "--force"], user: "erin").status == 0
            if !recovered { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(recovered, "the transaction tier did not recover after the database tier returned")
    }

    @Test("a frozen database tier gets a 503 after the tier-link timeout, and service resumes when it thaws")
    func databaseFrozen() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("gina")
        let file = deployment.directory + "/f.txt"
        try Data("hello".utf8).write(to: URL(fileURLWithPath: file))
        deployment.database?.signal(SIGSTOP)
        let frozen = try await deployment.coffer(["save", file, "-o", file + ".1"], user: "gina", timeout: .seconds(20))
        deployment.database?.signal(SIGCONT)
        #expect(frozen.status == 69, "\(frozen.stderr)")
        #expect(frozen.stderr.contains("did not answer in time"))
        #expect(!FileManager.default.fileExists(atPath: file + ".1"))
        let thawed = try await deployment.coffer(["save", file, "-o", file + ".2"], user: "gina")
        #expect(thawed.status == 0, "\(thawed.stderr)")
    }

    @Test("ZeroMQ peers with an unknown CURVE key, without CURVE, or sending garbage are refused while the database tier keeps serving")
    func hostileTierPeers() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        let logger = Logger(label: "test")
        let serverKey = try CurveKeyFile.readPublicKeys(at: deployment.directory + "/keys/transaction/database-curve.public")[0]
        let allowed = try CurveKeyFile.readKeyPair(at: deployment.directory + "/keys/transaction/curve.secret")
        let ping = try WireProtocol.encode(WireProtocol.request(.ping(.init())))

        // A stranger with a valid CURVE key that is not on the allow list.
        let stranger = try RequestClient(configuration: .init(endpoints: [deployment.databaseEndpoint], keys: try CurveKeyPair.generate(), serverKey: serverKey), context: ZMQContext(), logger: logger)
        try stranger.start()
        try await Task.sleep(for: .milliseconds(500))
        await #expect(throws: ZMQError.self) { try await stranger.request(ping, timeout: .seconds(1)) }
        stranger.shutdown()

        // A peer without CURVE: a plain DEALER.
        let plainContext = try ZMQContext()
        let plain = try ZMQSocket(plainContext, .dealer)
        try plain.connect(deployment.databaseEndpoint)
        _ = try plain.send([[0, 0, 0, 0, 0, 0, 0, 1], ping], wait: false)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try plain.receive() == nil, "a peer without CURVE got an answer")

        // An admitted peer sending garbage and malformed frames, then a real request.
        let friend = try RequestClient(configuration: .init(endpoints: [deployment.databaseEndpoint], keys: allowed, serverKey: serverKey), context: ZMQContext(), logger: logger)
        try friend.start()
        defer { friend.shutdown() }
        #expect(await eventually { try await friend.request(ping, timeout: .seconds(2)) } != nil)
        await #expect(throws: ZMQError.self) { try await friend.request([0xFF, 0x00, 0x13, 0x37], timeout: .milliseconds(500)) }
        await #expect(throws: ZMQError.self) { try await friend.request([UInt8](repeating: 0x42, count: 2 << 20), timeout: .milliseconds(500)) }
        // The oversized message made libzmq drop that connection; the client reconnects by itself.
        let answer = await eventually { try await friend.request(ping, timeout: .seconds(2)) }
        let response = try WireProtocol.decode(WireResponse.self, from: try #require(answer))
        guard case .pong(let p) = response.body else {
            Issue.record("no pong after garbage: \(response)")
            return
        }
        #expect(p.store == "sqlite")
        #expect(deployment.database?.isRunning == true)

        // The regular path still works for a real client.
        try await deployment.registerAndLogin("frank")
    }

    /// The first success of `body` within about five seconds, or `nil`.
    private func eventually(_ body: () async throws -> [UInt8]) async -> [UInt8]? {
        for _ in 0..<50 {
            if let value = try? await body() { return value }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}
