import CofferTesting
import Crypto
import Foundation
import Testing

/// Central copies through every tier: the `coffer` binary uploads over real TLS, the transaction
/// tier streams to the database tier over ZeroMQ, and the store keeps the bytes in the folder beside
/// SQLite or in PostgreSQL.
@Suite(.serialized) struct CentralCopyEndToEndTests {
    typealias Store = EndToEndTests.Store

    struct Records: Decodable {
        struct Record: Decodable {
            struct Central: Decodable { let generation: Int64; let size: Int64; let sha256: String }
            let recordID: String
            let fileName: String
            let central: Central?
        }
        let records: [Record]
    }

    func records(_ deployment: LocalDeployment, _ user: String, installation: String? = nil) async throws -> [Records.Record] {
        let listed = try await deployment.coffer(["list", "--json"], user: user, installation: installation)
        guard listed.status == 0 else { throw TestError("list failed: \(listed.stderr)") }
        return try JSONDecoder().decode(Records.self, from: Data(listed.stdout.utf8)).records
    }

    func kinds(_ deployment: LocalDeployment, _ user: String) async throws -> [String] {
        let history = try await deployment.coffer(["history", "--json"], user: user)
        guard history.status == 0 else { throw TestError("history failed: \(history.stderr)") }
        return try JSONDecoder().decode(EndToEndTests.History.self, from: Data(history.stdout.utf8)).events.map(\.kind)
    }

    func work(_ deployment: LocalDeployment, _ name: String = "work") throws -> String {
        let folder = deployment.directory + "/" + name
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test("save --central, lose the laptop's copy, retrieve --central on another installation; the central copy is re-sealed, replaced and still opens", arguments: EndToEndTests.stores)
    func saveLoseAndRetrieveElsewhere(store: Store) async throws {
        let deployment = try await EndToEndTests.deploy(store)
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("alice")
        let laptop = try work(deployment, "laptop")
        let original = Data((0..<(3 << 20) + 12_345).map { _ in UInt8.random(in: 0...255) })
        try original.write(to: URL(fileURLWithPath: laptop + "/plan.bin"))

        let saved = try await deployment.coffer(["save", "--central", laptop + "/plan.bin"], user: "alice")
        #expect(saved.status == 0, "\(saved.stderr)\n\(deployment.tierLogs)")
        #expect(saved.stdout.contains("central copy (generation 1"), "\(saved.stdout)")
        let listed = try await records(deployment, "alice")
        #expect(listed.first?.central?.generation == 1)
        let containerSize = try FileManager.default.attributesOfItem(atPath: laptop + "/plan.bin.coffer")[.size] as? Int64
        #expect(listed.first?.central?.size == containerSize)
        let pushedAgain = try await deployment.coffer(["push", laptop + "/plan.bin.coffer"], user: "alice")
        #expect(pushedAgain.status == 0 && pushedAgain.stdout.contains("nothing was sent"), "\(pushedAgain.stdout)\(pushedAgain.stderr)")

        // The laptop is lost.
        try FileManager.default.removeItem(atPath: laptop)
        try await deployment.login("alice", installation: "desktop")
        let desktop = try work(deployment, "desktop")
        let retrieved = try await deployment.coffer(["retrieve", "--central", "plan.bin", "-o", desktop + "/plan.bin"], user: "alice", installation: "desktop")
        #expect(retrieved.status == 0, "\(retrieved.stderr)\n\(deployment.tierLogs)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: desktop + "/plan.bin")) == original)
        #expect(retrieved.stdout.contains("re-sealed and replaced (generation 2)"), "\(retrieved.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: desktop) == ["plan.bin"], "no working files are left behind")

        // The replaced copy is the one that opens, from anywhere, by record id too.
        let recordID = try #require(listed.first?.recordID)
        let again = try await deployment.coffer(["retrieve", "--central", recordID, "-o", desktop + "/again.bin"], user: "alice")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: desktop + "/again.bin")) == original)
        #expect(try await records(deployment, "alice").first?.central?.generation == 3)

        let history = try await kinds(deployment, "alice")
        let expected = ["save", "central_upload", "central_download", "retrieve", "reseal", "key_destroyed", "central_replace"]
        #expect(history.filter { expected.contains($0) }.prefix(expected.count).elementsEqual(expected), "\(history)")
    }

    @Test("the central copy is the container byte for byte, and one whose bytes were altered on disk is refused by the client before it opens anything")
    func alteredBlobRefused() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("alice")
        let folder = try work(deployment)
        try Data((0..<200_000).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: folder + "/notes.bin"))
        let saved = try await deployment.coffer(["save", "--central", folder + "/notes.bin"], user: "alice")
        #expect(saved.status == 0, "\(saved.stderr)")

        let blobs = deployment.store + ".central/blobs"
        let shard = try #require(try FileManager.default.contentsOfDirectory(atPath: blobs).first)
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: blobs + "/" + shard).first)
        let path = blobs + "/" + shard + "/" + name
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes == (try Data(contentsOf: URL(fileURLWithPath: folder + "/notes.bin.coffer"))), "the service holds the ciphertext the client sealed, nothing else")
        bytes[bytes.count - 100] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))

        let refused = try await deployment.coffer(["retrieve", "--central", "notes.bin", "-o", folder + "/opened.bin"], user: "alice")
        #expect(refused.status == 65, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("altered or damaged in storage"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/opened.bin"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["notes.bin", "notes.bin.coffer"])
        #expect(!(try await kinds(deployment, "alice")).contains("retrieve"), "no decode key was asked for")
    }

    @Test("a local retrieve of a record with a central copy replaces the central copy with the re-sealed container, which still opens")
    func localRetrieveKeepsCentralCurrent() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("alice")
        let folder = try work(deployment)
        let original = Data((0..<300_000).map { _ in UInt8.random(in: 0...255) })
        try original.write(to: URL(fileURLWithPath: folder + "/draft.bin"))
        #expect(try await deployment.coffer(["save", "--central", folder + "/draft.bin"], user: "alice").status == 0)
        let local = try await deployment.coffer(["retrieve", folder + "/draft.bin.coffer", "-o", folder + "/local.bin"], user: "alice")
        #expect(local.status == 0 && local.stdout.contains("central copy replaced"), "\(local.stdout)\(local.stderr)")
        #expect(try await records(deployment, "alice").first?.central?.generation == 2)
        let central = try await deployment.coffer(["retrieve", "--central", "draft.bin", "-o", folder + "/central.bin"], user: "alice")
        #expect(central.status == 0, "\(central.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/central.bin")) == original)
        let kinds = try await kinds(deployment, "alice")
        #expect(kinds.filter { $0 == "reseal" }.count == 2 && kinds.filter { $0 == "central_replace" }.count == 2, "\(kinds)")
    }

    @Test("an upload over the quota gets one clear line before any byte is sent, and an audit entry", arguments: EndToEndTests.stores)
    func overQuota(store: Store) async throws {
        let deployment: LocalDeployment
        switch store {
        case .sqlite: deployment = try await LocalDeployment.start(databaseArguments: ["--central-quota-mib", "1"])
        case .postgresql: deployment = try await LocalDeployment.start(store: try await TestEnvironment.makePostgresDatabase(), databaseArguments: ["--central-quota-mib", "1"])
        }
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("alice")
        let folder = try work(deployment)
        try Data(count: 2 << 20).write(to: URL(fileURLWithPath: folder + "/big.bin"))
        let refused = try await deployment.coffer(["save", "--central", folder + "/big.bin"], user: "alice")
        #expect(refused.status == 77, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("quota") && refused.stderr.contains("coffer push"), "\(refused.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder + "/big.bin.coffer"), "the save itself stands")
        #expect(try await records(deployment, "alice").first?.central == nil)
        #expect(try await kinds(deployment, "alice").last == "central_refused")
    }

    @Test("another user can neither download nor replace a central copy; the attempt is audited under their name without the file name")
    func othersRefused() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("alice")
        try await deployment.registerAndLogin("mallory")
        let folder = try work(deployment)
        try Data(count: 50_000).write(to: URL(fileURLWithPath: folder + "/secret.bin"))
        #expect(try await deployment.coffer(["save", "--central", folder + "/secret.bin"], user: "alice").status == 0)
        let recordID = try #require(try await records(deployment, "alice").first?.recordID)

        let download = try await deployment.coffer(["retrieve", "--central", recordID, "-o", folder + "/stolen.bin"], user: "mallory")
        #expect(download.status == 77, "\(download.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/stolen.bin"))
        let push = try await deployment.coffer(["push", folder + "/secret.bin.coffer"], user: "mallory")
        #expect(push.status == 77, "\(push.stderr)")
        let history = try await deployment.coffer(["history", "--json"], user: "mallory")
        let events = try JSONDecoder().decode(EndToEndTests.History.self, from: Data(history.stdout.utf8)).events
        #expect(events.filter { $0.kind == "central_refused" }.count == 2)
        #expect(events.allSatisfy { $0.fileName == nil })
        #expect(try await records(deployment, "alice").first?.central?.generation == 1, "alice's copy is untouched")
    }

    @Test("coffer delete destroys the decode key and the central copy, audited")
    func deleteDestroysCentralCopy() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("alice")
        let folder = try work(deployment)
        try Data(count: 80_000).write(to: URL(fileURLWithPath: folder + "/old.bin"))
        #expect(try await deployment.coffer(["save", "--central", folder + "/old.bin"], user: "alice").status == 0)
        let deleted = try await deployment.coffer(["delete", "--yes", folder + "/old.bin.coffer"], user: "alice")
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(try await records(deployment, "alice").first?.central == nil)
        let blobs = try FileManager.default.subpathsOfDirectory(atPath: deployment.store + ".central/blobs").filter { $0.count > 3 }
        #expect(blobs.isEmpty, "\(blobs)")
        #expect(try await kinds(deployment, "alice").suffix(3) == ["delete", "key_destroyed", "central_delete"])
        let gone = try await deployment.coffer(["retrieve", "--central", "old.bin", "-o", folder + "/x"], user: "alice")
        #expect(gone.status == 66, "\(gone.stderr)")
    }
}

/// Uploads cut midway: the client killed, or the transaction process that streams it killed. The
/// central copy stays as it was (none, here) and the next push resumes from what the database tier
/// holds.
@Suite(.serialized) struct CentralUploadFaultTests {
    struct Pushed: Decodable {
        struct Central: Decodable { let generation: Int64; let size: Int64 }
        let sent: Int64
        let central: Central?
    }

    @Test("an upload cut by a killed client or a killed transaction process leaves no central copy, and a push resumes from what was staged and completes it",
          arguments: ["client", "transaction"])
    func cutAndResumed(killed: String) async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        if killed == "transaction" {
            let dying = try await deployment.startAnotherTransaction(environment: ["COFFER_FAULT": "mid-upload"])
            deployment.clientServers = "\(dying),\(deployment.serverURL.replacingOccurrences(of: "https://127.0.0.1", with: "localhost"))"
        }
        try await deployment.registerAndLogin("alice")
        let folder = deployment.directory + "/work"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let original = Data((0..<(6 << 20)).map { _ in UInt8.random(in: 0...255) })
        try original.write(to: URL(fileURLWithPath: folder + "/big.bin"))
        #expect(try await deployment.coffer(["save", folder + "/big.bin"], user: "alice").status == 0)
        let container = folder + "/big.bin.coffer"

        let size = try #require(try FileManager.default.attributesOfItem(atPath: container)[.size] as? Int64)
        let resumed: CommandResult
        if killed == "client" {
            var environment = deployment.clientEnvironment(user: "alice")
            environment["COFFER_FAULT"] = "mid-upload"
            let cut = try TestProcess(TestEnvironment.binary("coffer"), ["push", container], environment: environment, logDirectory: deployment.directory)
            let status = try await cut.wait()
            #expect(status == 128 + 9, "the upload was not cut: \(status) \(cut.standardError)")
            let listed = try await deployment.coffer(["list", "--json"], user: "alice")
            #expect(!listed.stdout.contains("\"central\""), "a cut upload is no central copy: \(listed.stdout)")
            resumed = try await deployment.coffer(["push", container, "--json"], user: "alice")
        } else {
            // The first process takes the announcement and dies after the first chunk; the client
            // announces again to the next, which answers what is staged, and sends the rest.
            resumed = try await deployment.coffer(["push", container, "--json"], user: "alice")
            #expect(deployment.moreTransactions.first?.process.isRunning == false, "the first process died midway")
        }
        #expect(resumed.status == 0, "\(resumed.stderr)\n\(deployment.tierLogs)")
        let pushed = try JSONDecoder().decode(Pushed.self, from: Data(resumed.stdout.utf8))
        #expect(pushed.central?.size == size && pushed.central?.generation == 1)
        #expect(pushed.sent > 0 && pushed.sent < size, "the last push sent only what was missing: \(pushed.sent) of \(size)")

        try FileManager.default.removeItem(atPath: container)
        let opened = try await deployment.coffer(["retrieve", "--central", "big.bin", "-o", folder + "/opened.bin"], user: "alice")
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/opened.bin")) == original)
    }

    struct Listed: Decodable {
        struct Record: Decodable {
            struct Central: Decodable { let generation: Int64; let sha256: String }
            let central: Central?
        }
        let records: [Record]
    }

    @Test("an upload cut by a killed database process or a restarted PostgreSQL leaves the old central copy or the new one, never a broken one, and a push completes it",
          arguments: ["database", "postgresql"])
    func cutByStorage(killed: String) async throws {
        let cluster = killed == "postgresql" ? try await PostgresCluster.start() : nil
        defer { cluster?.stop() }
        let deployment = try await LocalDeployment.start(store: cluster?.url)
        defer { deployment.terminate() }
        // A transaction process whose every chunk takes a quarter of a second: the cut lands midway.
        let slow = try await deployment.startAnotherTransaction(environment: ["COFFER_FAULT": "slow-upload"])
        deployment.clientServers = "\(slow),\(deployment.serverURL.replacingOccurrences(of: "https://127.0.0.1", with: "localhost"))"
        try await deployment.registerAndLogin("alice")
        let folder = deployment.directory + "/work"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let original = Data((0..<(12 << 20)).map { _ in UInt8.random(in: 0...255) })
        try original.write(to: URL(fileURLWithPath: folder + "/big.bin"))
        let container = folder + "/big.bin.coffer"
        #expect(try await deployment.coffer(["save", "--central", folder + "/big.bin"], user: "alice").status == 0)
        let first = try Data(contentsOf: URL(fileURLWithPath: container))

        // A local retrieve re-seals the container and confirms by uploading it as the central copy;
        // the store is cut while that upload streams.
        let retrieve = try TestProcess(TestEnvironment.binary("coffer"), ["retrieve", container, "-o", folder + "/opened.bin"],
                                       environment: deployment.clientEnvironment(user: "alice"), logDirectory: deployment.directory)
        defer { retrieve.killAndReap() }
        #expect(try await WatchTests.waitFor { FileManager.default.fileExists(atPath: folder + "/opened.bin") }, "\(retrieve.standardError)")
        try await Task.sleep(for: .seconds(2))
        if let cluster { try await cluster.restartPrimary() } else { try await deployment.restartDatabase(0) }
        let status = try await retrieve.wait(timeout: .seconds(120))
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/opened.bin")) == original, "the retrieve itself stands: \(status) \(retrieve.standardError)")

        // Old or new, never broken: the central copy is the bytes of one container or the other.
        let second = try Data(contentsOf: URL(fileURLWithPath: container))
        let listed = try await deployment.coffer(["list", "--json"], user: "alice")
        let central = try #require(try JSONDecoder().decode(Listed.self, from: Data(listed.stdout.utf8)).records.first?.central, "\(listed.stdout)\(listed.stderr)")
        let hex = { (data: Data) in SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }
        #expect((central.generation == 1 && central.sha256 == hex(first)) || (central.generation == 2 && central.sha256 == hex(second)),
                "generation \(central.generation), \(central.sha256): \(retrieve.standardError)")

        // The push (again, or resumed) completes it, and the central copy opens from anywhere.
        let pushed = try await deployment.coffer(["push", container], user: "alice")
        #expect(pushed.status == 0, "\(pushed.stderr)\n\(deployment.tierLogs)")
        try FileManager.default.removeItem(atPath: container)
        let opened = try await deployment.coffer(["retrieve", "--central", "big.bin", "-o", folder + "/central.bin"], user: "alice")
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/central.bin")) == original)
    }
}
