import CofferAPI
import CofferClient
import Crypto
import Foundation
import Testing

@Suite struct ServerAddressTests {
    @Test("addresses parse with and without scheme, port and brackets", arguments: [
        ("localhost:8443", "localhost", 8443), ("https://example.org:9443/", "example.org", 9443),
        ("example.org", "example.org", 8443), ("[::1]:7000", "::1", 7000),
    ])
    func parses(text: String, host: String, port: Int) throws {
        let address = try ServerAddress(text)
        #expect(address.host == host)
        #expect(address.port == port)
    }

    @Test("malformed addresses are usage errors", arguments: ["", ":8443", "host:0", "host:99999", "host:port", "a/b:1"])
    func refuses(text: String) {
        let error = #expect(throws: ClientError.self) { try ServerAddress(text) }
        #expect(error?.code == .usage)
    }

    @Test("a list names the deployment by its first address and keeps the others in order")
    func lists() throws {
        #expect(try ServerAddress.list("a:1, b:2,c:3").map(\.description) == ["a:1", "b:2", "c:3"])
        #expect(try ServerAddress.list("a:1").count == 1)
        #expect(throws: ClientError.self) { try ServerAddress.list(" , ") }
        #expect(throws: ClientError.self) { try ServerAddress.list("a:1,b:x") }
    }
}

@Suite struct ClientStateTests {
    func folder() throws -> String {
        let path = NSTemporaryDirectory() + "coffer-client-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("the device key is made once, kept 0600, and refused when others can read it")
    func deviceKey() throws {
        let dir = try folder()
        let first = try DeviceKey.loadOrCreate(in: dir)
        let again = try DeviceKey.loadOrCreate(in: dir)
        #expect(first.clientID == again.clientID)
        #expect(first.privateKey.rawRepresentation == again.privateKey.rawRepresentation)
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/device.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir + "/device.key")
        let error = #expect(throws: ClientError.self) { try DeviceKey.loadOrCreate(in: dir) }
        #expect(error?.code == .configuration)
    }

    @Test("a server key is pinned at first contact, accepted again, and a different one is refused")
    func pinning() throws {
        let known = KnownServers(directory: try folder())
        let server = try ServerAddress("localhost:8443")
        let key = P256.Signing.PrivateKey().publicKey
        #expect(try known.check(key, for: server, expected: nil) == .pinned)
        #expect(try known.check(key, for: server, expected: ServerIdentity.fingerprint(of: key)) == .known)
        let other = P256.Signing.PrivateKey().publicKey
        let changed = #expect(throws: ClientError.self) { try known.check(other, for: server, expected: nil) }
        #expect(changed?.message.contains("HAS CHANGED") == true)
        #expect(try known.check(other, for: try ServerAddress("localhost:9443"), expected: nil) == .pinned, "another address has its own pin")
        #expect(throws: ClientError.self) { try known.check(key, for: server, expected: "sha256:" + String(repeating: "0", count: 64)) }
    }

    @Test("a stored session loads until it expires; a missing one says to log in")
    func sessions() throws {
        let store = SessionStore(directory: try folder())
        let server = try ServerAddress("localhost:8443")
        #expect(throws: ClientError.self) { try store.load(server: server, user: "alice") }
        let now = Date()
        try store.save(.init(server: server.description, user: "alice", token: "t", expiresAt: Int64(now.timeIntervalSince1970) + 60), server: server)
        #expect(try store.load(server: server, user: "alice", now: now).token == "t")
        let expired = #expect(throws: ClientError.self) { try store.load(server: server, user: "alice", now: now.addingTimeInterval(61)) }
        #expect(expired?.message.contains("expired") == true)
    }
}
