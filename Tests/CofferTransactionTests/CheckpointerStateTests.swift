import CofferAudit
import CofferTransaction
import Crypto
import Foundation
import Logging
import Testing

/// The checkpoint state file: a restarted transaction process trusts only checkpoints its own key signed.
@Suite struct CheckpointerStateTests {
    func checkpointer(signer: NoteSigner, stateFile: String) throws -> Checkpointer {
        let link = ScriptedDatabase()
        var policy = Checkpointer.Policy()
        policy.stateFile = stateFile
        return Checkpointer(signer: signer, database: link, policy: policy, logger: Logger(label: "test"))
    }

    @Test func aStateFileSignedByThisKeyLoadsAndOneSignedByAnotherIsRefused() async throws {
        let directory = NSTemporaryDirectory() + "coffer-checkpointer-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let mine = try NoteSigner(keyName: "coffer/audit", key: Curve25519.Signing.PrivateKey())
        let theirs = try NoteSigner(keyName: "coffer/audit", key: Curve25519.Signing.PrivateKey())
        let text = Checkpoint(origin: "coffer/audit", size: 3, rootHash: MerkleHash.leaf([1])).text

        let good = directory + "/good.state"
        try Data(try mine.sign(text).serialized.utf8).write(to: URL(fileURLWithPath: good))
        try await checkpointer(signer: mine, stateFile: good).loadState()

        let forged = directory + "/forged.state"
        try Data(try theirs.sign(text).serialized.utf8).write(to: URL(fileURLWithPath: forged))
        await #expect(throws: TransactionTierError.self) { try await checkpointer(signer: mine, stateFile: forged).loadState() }
    }
}
