import CofferDatabase
import CofferStorage
import CofferTesting
import CofferWire
import Foundation
import Testing

/// A replay guard without a client id or with a short nonce is refused as malformed on every path,
/// the one-call save on PostgreSQL included, and nothing is written.
@Suite struct ReplayGuardShapeTests {
    typealias Backend = GroupCommitTests.Backend

    @Test("a save whose replay guard has a short nonce or no client id is BAD_REQUEST, alone and in a batch, and makes no record",
          arguments: GroupCommitTests.backends)
    func malformedGuard(backend: Backend) async throws {
        let tests = GroupCommitTests()
        let (handler, db) = try await tests.open(backend)
        _ = handler.handle(try WireProtocol.encode(tests.register("alice")))
        var shortNonce = tests.save(1, nonce: 1)
        shortNonce.replayGuard.nonce = Data(repeating: 1, count: 8)
        var noClient = tests.save(2, nonce: 2)
        noClient.replayGuard.clientID = ""
        let alone = try tests.decode(handler.handle(try WireProtocol.encode(shortNonce)))
        let batch = try handler.handleBatch([shortNonce, noClient].map { try WireProtocol.encode($0) }).map(tests.decode)
        for response in [alone] + batch {
            guard case .error(let error) = response.body else {
                Issue.record("not refused: \(response)")
                continue
            }
            #expect(error.code == .badRequest && error.message.contains("replay guard"))
        }
        #expect(try tests.count(db, "SELECT COUNT(*) FROM records") == 0)
    }
}
