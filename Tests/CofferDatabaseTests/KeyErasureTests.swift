import CofferDatabase
import CofferStorage
import CofferTesting
import CofferWire
import Foundation
import Logging
import Testing

/// A destroyed decode key leaves the SQLite file and its write-ahead log before the answer: after a
/// re-seal and after a delete, the wrapped key's bytes are in neither.
@Suite struct KeyErasureTests {
    func send(_ handler: RequestDispatcher, _ body: WireRequest.OneOf_Body, nonce: UInt8? = nil) throws -> WireResponse {
        var request = WireProtocol.request(body)
        if let nonce {
            var replayGuard = Coffer_Wire_V1_ReplayGuard()
            replayGuard.clientID = "client"
            replayGuard.nonce = Data(repeating: nonce, count: 16)
            replayGuard.timeUnixMs = Int64(Date().timeIntervalSince1970 * 1000)
            request.replayGuard = replayGuard
        }
        let reply = try #require(handler.handle(try WireProtocol.encode(request)))
        let response = try WireProtocol.decode(WireResponse.self, from: reply)
        if case .error(let error) = response.body { throw TestError("\(error.code): \(error.message)") }
        return response
    }

    /// Whether `bytes` occur in the store's file or its write-ahead log.
    func onDisk(_ bytes: Data, store path: String) -> [String] {
        [path, path + "-wal"].filter { file in
            (FileManager.default.contents(atPath: file)?.range(of: bytes)) != nil
        }.map { URL(fileURLWithPath: $0).lastPathComponent }
    }

    @Test("a wrapped key destroyed by a re-seal or a delete is in neither the SQLite file nor its WAL when the answer comes")
    func destroyedKeysLeaveTheFiles() throws {
        let path = try TestEnvironment.makeTemporaryDirectory("erasure") + "/store.sqlite"
        let handler = try RequestDispatcher(logger: Logger(label: "test")) { try RecordStore(connection: SQLiteConnection(path: path)) }
        var register = Coffer_Wire_V1_RegisterUser()
        register.user = "alice"
        register.passwordHash = "h"
        _ = try send(handler, .registerUser(register))

        let first = Data((0..<96).map { _ in UInt8.random(in: 0...255) })
        let second = Data((0..<96).map { _ in UInt8.random(in: 0...255) })
        let recordID = Data(repeating: 3, count: 16)
        var create = Coffer_Wire_V1_CreateRecord()
        create.recordID = recordID
        create.owner = "alice"
        create.fileName = "a.txt"
        create.sha256 = Data(repeating: 2, count: 32)
        create.encodeKeyID = Data(repeating: 5, count: 32)
        create.wrappedDecodeKey = first
        create.receiptSignature = Data([1])
        _ = try send(handler, .createRecord(create), nonce: 1)

        // The release's reply, kept for retries, carries the wrapped key too.
        var release = Coffer_Wire_V1_ReleaseKey()
        release.recordID = recordID
        release.owner = "alice"
        release.fileName = "a.txt"
        release.receiptSignature = Data([1])
        _ = try send(handler, .releaseKey(release), nonce: 2)
        var stage = Coffer_Wire_V1_StageReseal()
        stage.recordID = recordID
        stage.owner = "alice"
        stage.wrappedDecodeKey = second
        stage.encodeKeyID = Data(repeating: 6, count: 32)
        stage.receipt = Data("{}".utf8)
        stage.receiptSignature = Data([2])
        _ = try send(handler, .stageReseal(stage))
        #expect(!onDisk(first, store: path).isEmpty, "the search finds a live key")

        var confirm = Coffer_Wire_V1_ConfirmReseal()
        confirm.recordID = recordID
        confirm.owner = "alice"
        confirm.receiptSignature = Data([2])
        _ = try send(handler, .confirmReseal(confirm), nonce: 3)
        #expect(onDisk(first, store: path).isEmpty, "the key the re-seal destroyed is still in \(onDisk(first, store: path))")
        #expect(!onDisk(second, store: path).isEmpty, "the current key is stored")

        var delete = Coffer_Wire_V1_DeleteRecord()
        delete.recordID = recordID
        delete.owner = "alice"
        delete.receiptSignature = Data([2])
        _ = try send(handler, .deleteRecord(delete), nonce: 4)
        #expect(onDisk(second, store: path).isEmpty, "the key the delete destroyed is still in \(onDisk(second, store: path))")
    }
}
