import CofferDatabase
import CofferStorage
import CofferTesting
import CofferWire
import Foundation
import Logging
import Testing

/// The database tier answers a retried request (same request id) from the reply stored with its effect.
@Suite struct RetriedRequestTests {
    func handler() throws -> (RequestDispatcher, String) {
        let path = try TestEnvironment.makeTemporaryDirectory("handler") + "/store.sqlite"
        let handler = try RequestDispatcher(logger: Logger(label: "test")) { try RecordStore(connection: SQLiteConnection(path: path)) }
        return (handler, path)
    }

    func send(_ handler: RequestDispatcher, _ request: WireRequest) throws -> WireResponse {
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

    @Test("a save sent again with its client request id gets the record the first one made; another file under the id, or a deleted record, is a conflict")
    func repeatedSaveByClientRequestID() throws {
        let (handler, path) = try handler()
        var register = Coffer_Wire_V1_RegisterUser()
        register.user = "alice"
        register.passwordHash = "h"
        _ = try send(handler, WireProtocol.request(.registerUser(register)))
        func create(_ id: UInt8, name: String = "a.txt", key: [UInt8] = Array(repeating: 4, count: 65), requestID: UInt8 = 9) -> WireRequest {
            var create = Coffer_Wire_V1_CreateRecord()
            create.recordID = Data(repeating: id, count: 16)
            create.owner = "alice"
            create.fileName = name
            create.sha256 = Data(repeating: 2, count: 32)
            create.size = 7
            create.encodeKeyID = Data(repeating: id, count: 32)
            create.wrappedDecodeKey = Data([1, 2, 3])
            create.receipt = Data("receipt \(id)".utf8)
            create.receiptSignature = Data([id])
            create.clientRequestID = Data(repeating: requestID, count: 16)
            create.encodeKey = Data(key)
            return WireProtocol.request(.createRecord(create))
        }
        guard case .ack(let ack) = try send(handler, create(1)).body else { Issue.record("the first save made no record"); return }
        guard case .recordCreated(let earlier) = try send(handler, create(2)).body else { Issue.record("the repeat was not answered with the record"); return }
        #expect(earlier.recordID == Data(repeating: 1, count: 16) && earlier.receipt == Data("receipt 1".utf8))
        #expect(earlier.encodeKey == Data(repeating: 4, count: 65) && earlier.encodeKeyID == Data(repeating: 1, count: 32))
        #expect(earlier.auditIndex == ack.auditIndex)
        let db = try SQLiteConnection(path: path)
        #expect(try db.query("SELECT COUNT(*) FROM records", []).first?.int(0) == 1)
        #expect(try db.query("SELECT COUNT(*) FROM audit_log WHERE kind = 'save'", []).first?.int(0) == 1)

        guard case .error(let other) = try send(handler, create(3, name: "b.txt")).body else { Issue.record("another file under the same id was accepted"); return }
        #expect(other.code == .conflict)
        guard case .error(let malformed) = try send(handler, create(4, key: [1])).body else { Issue.record("a short encode key was accepted"); return }
        #expect(malformed.code == .badRequest)

        func lock(_ locked: Bool) throws {
            var lock = Coffer_Wire_V1_SetUserLock()
            lock.user = "alice"
            lock.locked = locked
            lock.operator = "ops"
            _ = try send(handler, WireProtocol.request(.setUserLock(lock)))
        }
        try lock(true)
        guard case .recordCreated(let afterLock) = try send(handler, create(6)).body else { Issue.record("a save sent again after a lock lost its record"); return }
        #expect(afterLock.recordID == Data(repeating: 1, count: 16))
        guard case .error(let refused) = try send(handler, create(7, requestID: 8)).body else { Issue.record("a locked owner saved a new file"); return }
        #expect(refused.code == .accountLocked)
        try lock(false)

        var delete = Coffer_Wire_V1_DeleteRecord()
        delete.recordID = Data(repeating: 1, count: 16)
        delete.owner = "alice"
        delete.receiptSignature = Data([1])
        _ = try send(handler, WireProtocol.request(.deleteRecord(delete)))
        guard case .error(let deleted) = try send(handler, create(5)).body else { Issue.record("a deleted record was handed out"); return }
        #expect(deleted.code == .conflict && deleted.message.contains("deleted"))
    }
}
