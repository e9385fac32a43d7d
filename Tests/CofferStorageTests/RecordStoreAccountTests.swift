import CofferStorage
import CofferTesting
import Foundation
import Testing

/// The store's accounts, logins, sessions and nonces (the rest of ``RecordStoreTests``).
extension RecordStoreTests {
    @Test("logins, good and failed, are audited with their source", arguments: backends)
    func logins(backend: Backend) async throws {
        let store = try await openStore(backend)
        _ = try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "10.0.0.1")
        try store.recordLogin(user: "alice", success: false, reason: "wrong password", timeMs: 2, source: "127.0.0.9")
        try store.recordLogin(user: "alice", success: true, reason: "", timeMs: 3, source: "127.0.0.9")
        let events = try #require(try store.history(owner: "alice", recordID: nil, limit: 100))
        #expect(events.map(\.kind) == ["register", "login_failed", "login"])
        #expect(events[1].detail == "wrong password")
        #expect(events[1].source == "127.0.0.9")
        #expect(events.map(\.index) == events.map(\.index).sorted())
    }

    @Test("a nonce is accepted once per client; old nonces are forgotten", arguments: backends)
    func nonces(backend: Backend) async throws {
        let store = try await openStore(backend)
        let nonce = Array(repeating: UInt8(4), count: 16)
        #expect(try store.consumeNonce(clientID: "c1", nonce: nonce, timeMs: 1_000_000, retentionMs: 600_000))
        #expect(try !store.consumeNonce(clientID: "c1", nonce: nonce, timeMs: 1_000_001, retentionMs: 600_000), "a replay")
        #expect(try store.consumeNonce(clientID: "c2", nonce: nonce, timeMs: 1_000_002, retentionMs: 600_000), "another client")
        #expect(try store.consumeNonce(clientID: "c1", nonce: nonce, timeMs: 2_000_000, retentionMs: 600_000), "forgotten after retention")
    }

    @Test("a logout ends the device's sessions issued until then, or every device's; later sessions and other users are served", arguments: backends)
    func logout(backend: Backend) async throws {
        let store = try await openStore(backend)
        let laptop = DeviceIdentity(clientID: "laptop", publicKey: [1]), desktop = DeviceIdentity(clientID: "desktop", publicKey: [2])
        _ = try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s", device: laptop)
        try store.recordLogin(user: "alice", success: true, reason: "", timeMs: 2, source: "s", device: desktop)
        _ = try store.registerUser(name: "bob", passwordHash: "h", timeMs: 1, source: "s", device: laptop)
        func take(_ client: String, _ user: String, issued: Int64) throws -> Bool { try self.take(store, client, user, issued: issued) }
        #expect(try take("laptop", "alice", issued: 1_000), "no logout yet")

        #expect(try store.endSessions(user: "alice", clientID: "laptop", allDevices: false, timeMs: 5_000, source: "127.0.0.1") != nil)
        #expect(try ended { try take("laptop", "alice", issued: 1_000) })
        #expect(try ended { try take("laptop", "alice", issued: 5_000) })
        #expect(try take("laptop", "alice", issued: 5_001), "a session issued after the logout")
        #expect(try take("desktop", "alice", issued: 1_000), "another device of the same user")
        #expect(try take("laptop", "bob", issued: 1_000), "another user of the same installation")

        #expect(try store.endSessions(user: "alice", clientID: "laptop", allDevices: true, timeMs: 6_000, source: "127.0.0.1") != nil)
        #expect(try ended { try take("desktop", "alice", issued: 1_000) })
        #expect(try ended { try take("laptop", "alice", issued: 5_001) })
        #expect(try take("laptop", "bob", issued: 1_000))
        #expect(try store.endSessions(user: "alice", clientID: "phone", allDevices: false, timeMs: 7_000, source: "s") == nil, "an unknown device")
        #expect(try store.endSessions(user: "nobody", clientID: "laptop", allDevices: true, timeMs: 7_000, source: "s") == nil, "an unknown user")

        let replayed = Array(repeating: UInt8(200), count: 16)
        #expect(try store.consumeNonce(clientID: "laptop", nonce: replayed, timeMs: 10_000, retentionMs: 600_000, session: (user: "bob", issuedMs: 1)))
        #expect(try !store.consumeNonce(clientID: "laptop", nonce: replayed, timeMs: 10_001, retentionMs: 600_000, session: (user: "bob", issuedMs: 1)),
                "a replay of a live session is still a replay")

        let events = try #require(try store.history(owner: "alice", recordID: nil, limit: 100)).filter { $0.kind == "logout" }
        #expect(events.map(\.detail) == ["ended this device's sessions", "ended the sessions of every device (2)"])
        #expect(events.map(\.clientID) == ["laptop", "laptop"])
        #expect(events.map(\.source) == ["127.0.0.1", "127.0.0.1"])
    }

    @Test("a password change stores the new hash, clears failed logins, ends the other devices' sessions and is audited; a locked account keeps its password", arguments: backends)
    func passwordChange(backend: Backend) async throws {
        let store = try await openStore(backend)
        let laptop = DeviceIdentity(clientID: "laptop", publicKey: [1]), desktop = DeviceIdentity(clientID: "desktop", publicKey: [2])
        _ = try store.registerUser(name: "alice", passwordHash: "old", timeMs: 1, source: "s", device: laptop)
        try store.recordLogin(user: "alice", success: true, reason: "", timeMs: 2, source: "s", device: desktop)
        try store.recordLogin(user: "alice", success: false, reason: "wrong password", timeMs: 3, source: "s")
        #expect(try store.changePassword(user: "alice", passwordHash: "new", clientID: "laptop", timeMs: 5_000, source: "127.0.0.1") != nil)
        #expect(try store.credentials(user: "alice")?.passwordHash == "new")
        #expect(try store.listUsers(after: "", limit: 10).first?.failedLogins == 0)
        #expect(try take(store, "laptop", "alice", issued: 1_000), "the device that changed it keeps its session")
        #expect(try ended { try take(store, "desktop", "alice", issued: 1_000) }, "the other device's session ended")
        #expect(try take(store, "desktop", "alice", issued: 5_001), "a login after the change")
        let entry = try #require(try store.history(owner: "alice", recordID: nil, limit: 100)?.last)
        #expect(entry.kind == "password_changed" && entry.detail == "ended the sessions of the other devices (1)" && entry.clientID == "laptop")

        #expect(try store.changePassword(user: "nobody", passwordHash: "x", clientID: "laptop", timeMs: 6_000, source: "s") == nil)
        _ = try store.setLocked(user: "alice", locked: true, reason: "", operatorName: "op", timeMs: 6_000)
        var refused = false
        do { _ = try store.changePassword(user: "alice", passwordHash: "thief", clientID: "laptop", timeMs: 7_000, source: "s") }
        catch let error as StorageError where error.code == .locked { refused = true }
        #expect(refused)
        #expect(try store.credentials(user: "alice")?.passwordHash == "new")
    }

    @Test("failed logins in a row lock the account; a success resets the count", arguments: backends)
    func lockout(backend: Backend) async throws {
        let store = try await openStore(backend)
        _ = try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s")
        for i in 0..<2 { _ = try store.recordLogin(user: "alice", success: false, reason: "wrong password", timeMs: 10 + Int64(i), source: "s", maxFailures: 3) }
        _ = try store.recordLogin(user: "alice", success: true, reason: "", timeMs: 20, source: "s", maxFailures: 3)
        #expect(try store.credentials(user: "alice")?.lockedUntilMs == 0)
        var outcomes: [LoginOutcome] = []
        for i in 0..<3 { outcomes.append(try store.recordLogin(user: "alice", success: false, reason: "wrong password", timeMs: 30 + Int64(i), source: "s", maxFailures: 3, lockMs: 1_000)) }
        guard case .recorded(_, let locked) = outcomes.last! else {
            Issue.record("not recorded")
            return
        }
        #expect(locked)
        #expect(try store.credentials(user: "alice")?.lockedUntilMs == 32 + 1_000)
        #expect(try store.history(owner: "alice", recordID: nil, limit: 100)?.last?.kind == "locked")
    }

    @Test("a client id enrolled with one device key cannot log in with another", arguments: backends)
    func deviceConflict(backend: Backend) async throws {
        let store = try await openStore(backend)
        let device = DeviceIdentity(clientID: "c1", publicKey: [1, 2, 3])
        _ = try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s", device: device)
        #expect(try store.recordLogin(user: "alice", success: true, reason: "", timeMs: 2, source: "s", device: device) != .deviceConflict)
        let impostor = DeviceIdentity(clientID: "c1", publicKey: [9, 9, 9])
        #expect(try store.recordLogin(user: "alice", success: true, reason: "", timeMs: 3, source: "s", device: impostor) == .deviceConflict)
        let second = DeviceIdentity(clientID: "c2", publicKey: [4, 5, 6])
        #expect(try store.recordLogin(user: "alice", success: true, reason: "", timeMs: 4, source: "s", device: second) != .deviceConflict)
        let kinds = try #require(try store.history(owner: "alice", recordID: nil, limit: 100)).map(\.kind)
        #expect(kinds == ["register", "login", "login_failed", "device_enrolled", "login"])
    }
}
