import CofferTesting
import Foundation
import Testing

/// The restore drill: back up while serving, keep working, lose the store, restore, and show that
/// what was acknowledged before the backup opens, the audit log verifies, and clients report the
/// restore instead of a rewritten history — only once the operator accepted it.
@Suite(.serialized) struct RestoreDrillTests {
    @Test("back up, keep working, lose the store, restore: containers from before the backup open, the log verifies, and a client that saw more is told of the restore, not of tampering")
    func drill() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("una")
        let folder = deployment.directory
        func write(_ name: String) throws -> String {
            let path = folder + "/" + name
            try Data("\(name) \(UUID())".utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        let before = try write("before.txt")
        #expect(try await deployment.coffer(["save", before, "--central"], user: "una").status == 0)
        #expect(try await deployment.coffer(["history", before + ".coffer", "--verify"], user: "una").status == 0)

        // A backup while the tiers serve.
        let backup = folder + "/backup"
        let backedUp = try await deployment.admin(["backup", "--store", deployment.store, backup])
        #expect(backedUp.status == 0, "\(backedUp.stderr)")
        #expect(backedUp.stdout.contains("backed up 1 records, 1 central copies"), "\(backedUp.stdout)")
        // The container as the backup knows it: the retrieve below re-seals the file in place.
        try FileManager.default.copyItem(atPath: before + ".coffer", toPath: folder + "/at-backup.coffer")

        // Work goes on after it: a save, a retrieve, and a verified history the client keeps.
        let after = try write("after.txt")
        #expect(try await deployment.coffer(["save", after], user: "una").status == 0)
        #expect(try await deployment.coffer(["retrieve", before + ".coffer", "-o", before + ".1", "--force"], user: "una").status == 0)
        #expect(try await deployment.coffer(["history", before + ".coffer", "--verify"], user: "una").status == 0)

        // A restore while the database tier has the store open is refused.
        let busy = try await deployment.admin(["restore", "--store", deployment.store, "--from", backup, "--note", "drill"])
        #expect(busy.status == 75, "\(busy.stderr)")
        #expect(busy.stderr.contains("has the store"))

        // The store is lost; the operator restores it.
        deployment.database?.killAndReap()
        for suffix in ["", "-wal", "-shm"] { unlink(deployment.store + suffix) }
        try? FileManager.default.removeItem(atPath: deployment.store + ".central")
        let restored = try await deployment.admin(["restore", "--store", deployment.store, "--from", backup, "--note", "drill INC-1"])
        #expect(restored.status == 0, "\(restored.stderr)")
        let index = try #require(restored.stdout.split(separator: "`").first { $0.hasPrefix("accept-restore ") }.flatMap { Int($0.dropFirst("accept-restore ".count)) },
                                 "\(restored.stdout)")
        #expect(restored.stdout.contains("an unknown number of entries after it were lost"), "the lost store could not be read: \(restored.stdout)")
        try await deployment.restartDatabase(0)

        // Until the operator accepts the restore, the transaction tier signs nothing across it.
        let refused = try await deployment.coffer(["history", before + ".coffer", "--verify"], user: "una")
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("inconsistent") || refused.stderr.contains("log in again") || refused.stderr.contains("session"), "\(refused.stderr)")

        // Naming an entry that is not a restore does not help.
        deployment.transactionArguments = ["--accept-restore", "0"]
        try await deployment.restartTransaction()
        try await deployment.login("una", installation: "second")
        let wrong = try await deployment.coffer(["history", before + ".coffer", "--verify"], user: "una", installation: "second")
        #expect(wrong.status != 0, "\(wrong.stdout)")
        #expect(wrong.stderr.contains("inconsistent"), "\(wrong.stderr)")

        deployment.transactionArguments = ["--accept-restore", "\(index)"]
        try await deployment.restartTransaction()
        // Every session ended with the restore: the first installation logs in again.
        let ended = try await deployment.coffer(["list"], user: "una")
        #expect(ended.status != 0, "a session from before the restore is refused: \(ended.stdout)")
        try await deployment.login("una", installation: nil)

        let reopened = try await deployment.coffer(["retrieve", folder + "/at-backup.coffer", "-o", before + ".2"], user: "una")
        #expect(reopened.status == 0, "\(reopened.stderr)")
        #expect(FileManager.default.contents(atPath: before + ".2") == FileManager.default.contents(atPath: before))
        // Re-sealed after the backup, the container names a key generation the restored store never had.
        let resealed = try await deployment.coffer(["retrieve", before + ".coffer", "-o", before + ".4"], user: "una")
        #expect(resealed.status != 0)
        print("a container re-sealed after the backup: exit \(resealed.status): \(resealed.stderr)")
        let central = try await deployment.coffer(["retrieve", "--central", "before.txt", "-o", before + ".3"], user: "una")
        #expect(central.status == 0, "the central copy came back too: \(central.stderr)")
        let lost = try await deployment.coffer(["retrieve", after + ".coffer", "-o", after + ".1"], user: "una")
        #expect(lost.status != 0, "a save after the backup is gone")
        #expect(!FileManager.default.fileExists(atPath: after + ".1"))

        let told = try await deployment.coffer(["history", folder + "/at-backup.coffer", "--verify"], user: "una")
        #expect(told.status == 0, "\(told.stderr)")
        #expect(told.stderr.contains("RESTORED THE KEY SERVICE FROM A BACKUP"), "\(told.stderr)")
        #expect(!told.stderr.contains("REWRITTEN"))
        let again = try await deployment.coffer(["history", folder + "/at-backup.coffer", "--verify"], user: "una")
        #expect(again.status == 0 && !again.stderr.contains("RESTORED"), "told once: \(again.stderr)")
        let lostJournal = try String(contentsOfFile: folder + "/client-una/audit/" + (try FileManager.default.contentsOfDirectory(atPath: folder + "/client-una/audit").first { $0.hasSuffix(".lost") } ?? "none"), encoding: .utf8)
        #expect(lostJournal.contains("retrieve"), "the entries the restore lost are kept aside: \(lostJournal)")

        let export = folder + "/export"
        #expect(try await deployment.admin(["audit", "export", export]).status == 0)
        let verified = try await deployment.admin(["audit", "verify", export, "--key", folder + "/keys/transaction/checkpoint.vkey"])
        #expect(verified.status == 0, "\(verified.stdout)")
    }

    @Test("PostgreSQL: a base backup and the WAL archive recover the store to a restore point; marked restored, everything saved before that point opens and the log verifies",
          .enabled(if: FileManager.default.fileExists(atPath: "/usr/lib/postgresql")))
    func pointInTime() async throws {
        let cluster = try await PostgresCluster.start(standby: false, archive: true)
        defer { cluster.stop() }
        let deployment = try await LocalDeployment.start(store: cluster.url)
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("vera")
        let folder = deployment.directory
        func save(_ name: String) async throws -> String {
            let path = folder + "/" + name
            try Data("\(name) \(UUID())".utf8).write(to: URL(fileURLWithPath: path))
            let saved = try await deployment.coffer(["save", path], user: "vera")
            #expect(saved.status == 0, "\(saved.stderr)")
            return path
        }
        let beforeBase = try await save("a.txt")
        let base = try await cluster.baseBackup()
        let afterBase = try await save("b.txt")
        #expect(try await deployment.coffer(["history", afterBase + ".coffer", "--verify"], user: "vera").status == 0)
        try await cluster.sql("SELECT pg_create_restore_point('drill')")
        try await cluster.sql("SELECT pg_switch_wal()")
        let afterPoint = try await save("c.txt")
        let lostEntries = Int64(try await cluster.sql("SELECT COUNT(*) FROM audit_log")) ?? 0
        #expect(try await deployment.coffer(["history", afterPoint + ".coffer", "--verify"], user: "vera").status == 0)
        // The WAL up to the restore point is archived before the disk is lost.
        for _ in 0..<100 where (try? FileManager.default.contentsOfDirectory(atPath: cluster.archiveDirectory).count) ?? 0 < 2 {
            try await Task.sleep(for: .milliseconds(100))
        }

        deployment.database?.killAndReap()
        try await cluster.recover(from: base, toRestorePoint: "drill")
        let marked = try await deployment.admin(["restore", "--store", cluster.url, "--in-place", "--lost-entries", "\(lostEntries)", "--note", "pitr drill"])
        #expect(marked.status == 0, "\(marked.stderr)")
        let index = try #require(marked.stdout.split(separator: "`").first { $0.hasPrefix("accept-restore ") }.flatMap { Int($0.dropFirst("accept-restore ".count)) },
                                 "\(marked.stdout)")
        try await deployment.restartDatabase(0)
        deployment.transactionArguments = ["--accept-restore", "\(index)"]
        try await deployment.restartTransaction()
        try await deployment.login("vera", installation: nil)

        for (file, opens) in [(beforeBase, true), (afterBase, true), (afterPoint, false)] {
            let retrieved = try await deployment.coffer(["retrieve", file + ".coffer", "-o", file + ".out"], user: "vera")
            #expect((retrieved.status == 0) == opens, "\(file): \(retrieved.stderr)")
            if opens { #expect(FileManager.default.contents(atPath: file + ".out") == FileManager.default.contents(atPath: file)) }
        }
        let told = try await deployment.coffer(["history", beforeBase + ".coffer", "--verify"], user: "vera")
        #expect(told.status == 0, "\(told.stderr)")
        #expect(told.stderr.contains("RESTORED THE KEY SERVICE FROM A BACKUP"), "\(told.stderr)")
        let export = folder + "/export"
        #expect(try await deployment.admin(["audit", "export", export]).status == 0)
        let verified = try await deployment.admin(["audit", "verify", export, "--key", folder + "/keys/transaction/checkpoint.vkey"])
        #expect(verified.status == 0, "\(verified.stdout)")
    }
}
