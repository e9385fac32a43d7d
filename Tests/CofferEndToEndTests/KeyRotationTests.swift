import CofferStorage
import CofferTesting
import Foundation
import Testing

/// Rotating the KEK under load: rolling restarts of two transaction processes, a background move
/// of every decode key, the old KEK retired — no request fails and every container still opens.
@Suite(.serialized) struct KeyRotationTests {
    static func counts(_ deployment: LocalDeployment) async throws -> [String: Int64] {
        let status = try await deployment.admin(["keys", "status", "--json"])
        guard status.status == 0 else { throw TestError("keys status: \(status.stderr)") }
        return try JSONDecoder().decode([String: Int64].self, from: Data(status.stdout.utf8))
    }

    @Test("the KEK is rotated under saves and retrieves with two processes restarted in turn: no request fails, every key moves, the old KEK retires, every container opens")
    func rotateKEK() async throws {
        let (deployment, work) = try await LocalDeployment.forRotation(user: "xena")
        defer { deployment.terminate() }
        var before: [(file: String, content: Data)] = []
        for n in 0..<8 {
            let file = "\(work)/before-\(n).txt"
            let content = Data("before \(n) \(UUID())".utf8)
            try content.write(to: URL(fileURLWithPath: file))
            #expect(try await deployment.coffer(["save", file], user: "xena").status == 0)
            before.append((file, content))
        }
        let oldKEK = deployment.kekFile
        // The keys as the old KEK wrapped them: after the rotation they are in neither SQLite file.
        let oldForms = try StoreLocation(deployment.store).connect().query("SELECT wrapped_decode_key FROM records", []).map { try $0.blob(0) }
        #expect(oldForms.count == 8)
        let oldID = try #require(try await Self.counts(deployment).keys.first)
        #expect(try await Self.counts(deployment) == [oldID: 8], "every key is under the first KEK, tagged")

        // Saves and retrieves run the whole time, retrieving the containers from before as well.
        let load = SaveRetrieveLoad(deployment, user: "xena", work: work, reopen: { "\(work)/before-\($0 % 8).txt.coffer" })

        let newKEK = deployment.directory + "/keys/transaction/kek-2.b64"
        let made = try await deployment.admin(["keys", "new-kek", newKEK])
        #expect(made.status == 0, "\(made.stderr)")
        let newID = "kek:" + (made.stdout.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? "")
        // 1: every process opens keys under the new KEK before any wraps one.
        deployment.transactionArguments += ["--kek-unwrap-only", newKEK]
        for index in 0..<2 { try await deployment.restartTransactionProcess(index, graceful: true) }
        // 2: the new KEK wraps; the old one only opens, while the processes move the keys.
        deployment.kekFile = newKEK
        deployment.transactionArguments = LocalDeployment.rotationArguments + ["--kek-unwrap-only", oldKEK, "--rewrap-pause-ms", "20"]
        for index in 0..<2 { try await deployment.restartTransactionProcess(index, graceful: true) }
        var counts: [String: Int64] = [:]
        for _ in 0..<120 {
            counts = try await Self.counts(deployment)
            if counts.keys.allSatisfy({ $0 == newID }) { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(counts.keys.allSatisfy { $0 == newID }, "every key moved to the new KEK: \(counts)")
        // 3: the old KEK retires, once every session issued under it has ended: sessions are keyed
        // by the KEK, and last session-minutes; here the client logs in again as it would by then.
        try await deployment.login("xena", installation: nil)
        deployment.transactionArguments = LocalDeployment.rotationArguments
        for index in 0..<2 { try await deployment.restartTransactionProcess(index, graceful: true) }
        try await Task.sleep(for: .seconds(1))
        let (failures, operations) = try await load.stop()
        #expect(failures.isEmpty, "\(failures.count) failed requests: \(failures.prefix(3))")
        #expect(operations > 0, "the load ran through the rotation")
        for (file, content) in await before + load.results.saved {
            let out = file + ".opened"
            let retrieved = try await deployment.coffer(["retrieve", file + ".coffer", "-o", out, "--force"], user: "xena")
            #expect(retrieved.status == 0, "\(file): \(retrieved.stderr)")
            #expect(FileManager.default.contents(atPath: out) == content)
        }
        for suffix in ["", "-wal"] {
            let bytes = FileManager.default.contents(atPath: deployment.store + suffix) ?? Data()
            #expect(!oldForms.contains { bytes.range(of: Data($0)) != nil }, "a key wrapped under the old KEK is still in coffer.sqlite\(suffix)")
        }
        let export = deployment.directory + "/export"
        #expect(try await deployment.admin(["audit", "export", export]).status == 0)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: export))?.compactMap { try? String(contentsOfFile: export + "/" + $0, encoding: .utf8) }.joined() ?? ""
        #expect(entries.contains("key_rewrap"), "the moves are audited")
    }
}

extension KeyRotationTests {
    @Test("the checkpoint key is rotated under saves, retrieves and verified histories: none fails, the client moves to the new key through the identity key's statement, and an export verifies with both keys")
    func rotateCheckpointKey() async throws {
        let (deployment, work) = try await LocalDeployment.forRotation(user: "yuki")
        defer { deployment.terminate() }
        let kept = work + "/kept.txt"
        try Data("kept".utf8).write(to: URL(fileURLWithPath: kept))
        #expect(try await deployment.coffer(["save", kept], user: "yuki").status == 0)
        #expect(try await deployment.coffer(["history", kept + ".coffer", "--verify"], user: "yuki").status == 0, "the client pins the first key")
        let oldVKey = deployment.directory + "/keys/transaction/checkpoint.vkey"
        let oldState = deployment.directory + "/old-checkpoint.state"
        try FileManager.default.copyItem(atPath: deployment.directory + "/checkpoint.state", toPath: oldState)

        let load = SaveRetrieveLoad(deployment, user: "yuki", work: work)

        let newKey = deployment.directory + "/keys/transaction/checkpoint-2.key"
        let made = try await deployment.admin(["keys", "new-checkpoint-key", newKey])
        #expect(made.status == 0, "\(made.stderr)")
        deployment.checkpointKeyFile = newKey
        deployment.transactionArguments += ["--checkpoint-key-previous", oldVKey]
        for index in 0..<2 { try await deployment.restartTransactionProcess(index, graceful: true) }
        try await Task.sleep(for: .seconds(1))

        let moved = try await deployment.coffer(["history", kept + ".coffer", "--verify"], user: "yuki")
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(moved.stderr.contains("the audit checkpoint key changed"), "\(moved.stderr)")
        #expect(moved.stdout.contains("consistent with the checkpoint"), "the checkpoint kept under the old key was checked: \(moved.stdout)")
        let again = try await deployment.coffer(["history", kept + ".coffer", "--verify"], user: "yuki")
        #expect(again.status == 0 && !again.stderr.contains("changed"), "\(again.stderr)")
        let (failures, operations) = try await load.stop()
        #expect(failures.isEmpty, "\(failures.count) failed requests: \(failures.prefix(3))")
        #expect(operations > 0)

        let export = deployment.directory + "/export"
        #expect(try await deployment.admin(["audit", "export", export]).status == 0)
        let newVKey = deployment.directory + "/keys/transaction/checkpoint-2.vkey"
        let both = try await deployment.admin(["audit", "verify", export, "--key", newVKey, "--key", oldVKey])
        #expect(both.status == 0, "\(both.stdout)")
        let newOnly = try await deployment.admin(["audit", "verify", export, "--key", newVKey])
        #expect(newOnly.status != 0, "the checkpoints signed before the rotation need the old key: \(newOnly.stdout)")

        // A process given the new key alone, whose state is a checkpoint of the old key, refuses to start.
        deployment.transactionArguments = LocalDeployment.rotationArguments
        let refused = try await deployment.transactionRefusal(["--checkpoint-state", oldState])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("checkpoint-key-previous"), "\(refused.stderr)")
    }
}
