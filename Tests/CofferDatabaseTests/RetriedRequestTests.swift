import CofferDatabase
import CofferStorage
import CofferTesting
import CofferWire
import Foundation
import Logging
import Testing

/// The database tier answers a retried request (same request id) from the reply stored with its effect.
@Suite struct RetriedRequestTests {
    func handler() throws -> (DatabaseRequestHandler, String) {
        let path = try TestEnvironment.makeTemporaryDirectory("handler") + "/store.sqlite"
        let handler = try DatabaseRequestHandler(logger: Logger(label: "test")) { try RecordStore(connection: SQLiteConnection(path: path)) }
        return (handler, path)
    }

    func send(_ handler: DatabaseRequestHandler, _ request: WireRequest) throws -> WireResponse {
        let reply = try #require(handler.handle(try WireProtocol.encode(request)))
        return try WireProtocol.decode(WireResponse.self, from: reply)
    }

    @Test("a retried save makes one record and one audit entry, and gets the same answer")
    func retriedSave() throws {
        let (handler, path) = try handler()
        var register = Coffer_Wire_V1_RegisterUser()
        register.user = "alice"
        register.passwordHash = "h"
        #expect(try send(handler, WireProtocol.request(.registerUser(register))).body.map { if case .ack = $0 { true } else { false } } == true)

        var create = Coffer_Wire_V1_CreateRecord()
        create.recordID = Data(repeating: 1, count: 16)
        create.owner = "alice"
        create.fileName = "a.txt"
        create.sha256 = Data(repeating: 2, count: 32)
        create.wrappedDecodeKey = Data([1, 2, 3])
        create.receiptSignature = Data([4])
        var replayGuard = Coffer_Wire_V1_ReplayGuard()
        replayGuard.clientID = "client"
        replayGuard.nonce = Data(repeating: 7, count: 16)
        replayGuard.timeUnixMs = Int64(Date().timeIntervalSince1970 * 1000)
        var request = WireProtocol.request(.createRecord(create))
        request.replayGuard = replayGuard

        let first = try send(handler, request)
        let retry = try send(handler, request)
        #expect(first == retry)
        guard case .ack(let ack) = first.body else { Issue.record("no ack: \(first)"); return }
        #expect(ack.auditIndex == 1)

        let db = try SQLiteConnection(path: path)
        #expect(try db.query("SELECT COUNT(*) FROM records", []).first?.int(0) == 1)
        #expect(try db.query("SELECT COUNT(*) FROM audit_log WHERE kind = 'save'", []).first?.int(0) == 1)

        // The same nonce in a new request is still a replay.
        var replay = WireProtocol.request(.createRecord(create))
        replay.replayGuard = replayGuard
        guard case .error(let error) = try send(handler, replay).body else { Issue.record("a replay was accepted"); return }
        #expect(error.code == .replayed)
    }
}
