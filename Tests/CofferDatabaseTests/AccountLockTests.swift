import CofferDatabase
import CofferStorage
import CofferTesting
import CofferWire
import Foundation
import Logging
import Testing

/// The database tier answers every request for an account an operator locked with ACCOUNT_LOCKED,
/// which the transaction tier turns into 403 `account_locked`.
@Suite struct AccountLockTests {
    func answer(_ handler: RequestDispatcher, _ body: WireRequest.OneOf_Body) throws -> WireResponse {
        try WireProtocol.decode(WireResponse.self, from: try #require(handler.handle(try WireProtocol.encode(WireProtocol.request(body)))))
    }

    func code(_ response: WireResponse) -> WireError.Code? {
        if case .error(let error) = response.body { return error.code }
        return nil
    }

    @Test("a locked account's saves, key releases, deletes, lists, histories and proofs are refused ACCOUNT_LOCKED; others are served")
    func lockedAccountRequests() throws {
        let path = try TestEnvironment.makeTemporaryDirectory("lock") + "/store.sqlite"
        let handler = try RequestDispatcher(logger: Logger(label: "test")) { try RecordStore(connection: SQLiteConnection(path: path)) }
        for user in ["alice", "bob"] {
            var register = Coffer_Wire_V1_RegisterUser()
            register.user = user
            register.passwordHash = "h"
            _ = try answer(handler, .registerUser(register))
        }
        func create(_ id: UInt8, owner: String) -> WireRequest.OneOf_Body {
            var create = Coffer_Wire_V1_CreateRecord()
            create.recordID = Data(repeating: id, count: 16)
            create.owner = owner
            create.fileName = "a.txt"
            create.sha256 = Data(repeating: 2, count: 32)
            create.wrappedDecodeKey = Data([1, 2, 3])
            create.receiptSignature = Data([4])
            return .createRecord(create)
        }
        #expect(code(try answer(handler, create(1, owner: "alice"))) == nil)

        var lock = Coffer_Wire_V1_SetUserLock()
        lock.user = "nobody"
        lock.locked = true
        #expect(code(try answer(handler, .setUserLock(lock))) == .notFound)
        lock.user = "alice"
        #expect(code(try answer(handler, .setUserLock(lock))) == nil)

        var release = Coffer_Wire_V1_ReleaseKey()
        release.recordID = Data(repeating: 1, count: 16)
        release.owner = "alice"
        release.fileName = "a.txt"
        release.receiptSignature = Data([4])
        var delete = Coffer_Wire_V1_DeleteRecord()
        delete.recordID = Data(repeating: 1, count: 16)
        delete.owner = "alice"
        delete.receiptSignature = Data([4])
        var list = Coffer_Wire_V1_ListRecords()
        list.owner = "alice"
        var history = Coffer_Wire_V1_ListHistory()
        history.owner = "alice"
        var proofs = Coffer_Wire_V1_GetAuditProofs()
        proofs.owner = "alice"
        for body: WireRequest.OneOf_Body in [create(2, owner: "alice"), .releaseKey(release), .deleteRecord(delete), .listRecords(list),
                                             .listHistory(history), .getAuditProofs(proofs)] {
            #expect(code(try answer(handler, body)) == .accountLocked, "\(body)")
        }
        list.owner = "bob"
        #expect(code(try answer(handler, create(3, owner: "bob"))) == nil)
        #expect(code(try answer(handler, .listRecords(list))) == nil)
    }
}
