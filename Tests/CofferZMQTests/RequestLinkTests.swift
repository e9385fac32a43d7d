import CofferZMQ
import Foundation
import Logging
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The CURVE request link, with real sockets on loopback.
@Suite(.serialized) struct RequestLinkTests {
    let logger = Logger(label: "test")

    func startEcho(allowed: [String]) throws -> (RequestServer, CurveKeyPair, ZMQContext) {
        let context = try ZMQContext()
        let keys = try CurveKeyPair.generate()
        let server = RequestServer(configuration: .init(endpoint: "tcp://127.0.0.1:*", keys: keys, allowedClientKeys: allowed), context: context, logger: logger)
        try server.start { payload in payload == [0xDE, 0xAD] ? nil : payload.reversed() }
        return (server, keys, context)
    }

    func startClient(_ endpoint: String, keys: CurveKeyPair, serverKey: String) throws -> RequestClient {
        let client = try RequestClient(configuration: .init(endpoints: [endpoint], keys: keys, serverKey: serverKey), context: ZMQContext(), logger: logger)
        try client.start()
        return client
    }

    @Test("an allow-listed client gets answers; requests are matched to replies")
    func roundTrip() async throws {
        let clientKeys = try CurveKeyPair.generate()
        let (server, serverKeys, _) = try startEcho(allowed: [clientKeys.publicKey])
        defer { server.stop() }
        let client = try startClient(server.boundEndpoint, keys: clientKeys, serverKey: serverKeys.publicKey)
        defer { client.shutdown() }
        let reply = try await retrying { try await client.request([1, 2, 3], timeout: .seconds(5)) }
        #expect(reply == [3, 2, 1])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<50 {
                group.addTask {
                    let r = try await client.request([UInt8(i), 0], timeout: .seconds(5))
                    #expect(r == [0, UInt8(i)])
                }
            }
            try await group.waitForAll()
        }
    }

    @Test("a client whose key is not on the allow list is refused by ZAP and never answered")
    func unknownKeyRefused() async throws {
        let allowedKeys = try CurveKeyPair.generate()
        let (server, serverKeys, _) = try startEcho(allowed: [allowedKeys.publicKey])
        defer { server.stop() }
        let stranger = try startClient(server.boundEndpoint, keys: try CurveKeyPair.generate(), serverKey: serverKeys.publicKey)
        defer { stranger.shutdown() }
        try await Task.sleep(for: .milliseconds(300))
        await #expect(throws: ZMQError.self) { try await stranger.request([1], timeout: .seconds(1)) }
        #expect(server.authenticationDecisions.denied >= 1)
        #expect(server.authenticationDecisions.admitted == 0)
    }

    @Test("a request with no server connected fails at once as unavailable")
    func noServer() async throws {
        let client = try startClient("tcp://127.0.0.1:1", keys: try CurveKeyPair.generate(), serverKey: try CurveKeyPair.generate().publicKey)
        defer { client.shutdown() }
        let error = await #expect(throws: ZMQError.self) { try await client.request([1], timeout: .seconds(5)) }
        #expect(error?.code == .unavailable)
    }

    @Test("a request the server does not answer times out")
    func timeout() async throws {
        let clientKeys = try CurveKeyPair.generate()
        let (server, serverKeys, _) = try startEcho(allowed: [clientKeys.publicKey])
        defer { server.stop() }
        let client = try startClient(server.boundEndpoint, keys: clientKeys, serverKey: serverKeys.publicKey)
        defer { client.shutdown() }
        _ = try await retrying { try await client.request([1], timeout: .seconds(5)) }
        let error = await #expect(throws: ZMQError.self) { try await client.request([0xDE, 0xAD], timeout: .milliseconds(300)) }
        #expect(error?.code == .timeout)
    }

    @Test("key files: a secret key file rebuilds its pair; bad keys are refused")
    func keyFiles() throws {
        let keys = try CurveKeyPair.generate()
        #expect(try CurveKeyPair(secretKey: keys.secretKey) == keys)
        #expect(throws: ZMQError.self) { try CurveKeyPair(secretKey: "short") }
        let dir = NSTemporaryDirectory() + "coffer-zmq-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "# comment\n\(keys.publicKey)\n\n".write(toFile: dir + "/allow", atomically: true, encoding: .utf8)
        #expect(try CurveKeyFile.readPublicKeys(at: dir + "/allow") == [keys.publicKey])
        try "not a key\n".write(toFile: dir + "/bad", atomically: true, encoding: .utf8)
        #expect(throws: ZMQError.self) { try CurveKeyFile.readPublicKeys(at: dir + "/bad") }
    }

    /// The first request may race the CURVE handshake (the client refuses to queue without a peer).
    private func retrying(_ body: () async throws -> [UInt8]) async throws -> [UInt8] {
        for _ in 0..<50 {
            if let reply = try? await body() { return reply }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await body()
    }
}

@Suite struct CurveKeyFileTests {
    @Test("a server key file names one key for every endpoint and keys of particular endpoints; a bad key, a second key for every endpoint or an endpoint named twice is refused")
    func serverKeys() throws {
        let (a, b) = (try CurveKeyPair.generate().publicKey, try CurveKeyPair.generate().publicKey)
        let path = NSTemporaryDirectory() + "coffer-server-keys-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "# the database tier\n\(a)\ntcp://10.0.1.6:7701 \(b)\n".write(toFile: path, atomically: true, encoding: .utf8)
        let read = try CurveKeyFile.readServerKeys(at: path)
        #expect(read.every == a && read.byEndpoint == ["tcp://10.0.1.6:7701": b])
        for bad in ["tcp://x:1 not-a-key\n", "\(a)\n\(b)\n", "tcp://x:1 \(a)\ntcp://x:1 \(b)\n", "tcp://x:1 \(a) extra\n"] {
            try bad.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: ZMQError.self, "\(bad)") { try CurveKeyFile.readServerKeys(at: path) }
        }
    }

    @Test("a secret key file that others can read is refused")
    func permissions() throws {
        let keys = try CurveKeyPair.generate()
        let path = NSTemporaryDirectory() + "coffer-curve-\(UUID().uuidString)"
        try (keys.secretKey + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        chmod(path, 0o644)
        #expect(throws: ZMQError.self) { try CurveKeyFile.readKeyPair(at: path) }
        chmod(path, 0o600)
        #expect(try CurveKeyFile.readKeyPair(at: path) == keys)
    }
}
