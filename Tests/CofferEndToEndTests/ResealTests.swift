import CofferTesting
import Foundation
import Testing

/// One key pair, one use: re-seal after every retrieve, old copies refused, crashes lose nothing, delete shreds.
@Suite(.serialized) struct ResealTests {
    struct Records: Decodable {
        struct Record: Decodable { let fileName: String; let deleted: Bool; let resealed: Int64? }
        let records: [Record]
    }

    static func prepare(_ user: String) async throws -> (LocalDeployment, String) {
        let deployment = try await LocalDeployment.start()
        try await deployment.registerAndLogin(user)
        let file = deployment.directory + "/plan.txt"
        try Data("the plan, version 1".utf8).write(to: URL(fileURLWithPath: file))
        let saved = try await deployment.coffer(["save", file], user: user)
        guard saved.status == 0 else { throw TestError("save failed: \(saved.stderr)") }
        return (deployment, file)
    }

    @Test("a retrieve re-seals the container under a new key pair; the old copy is refused as an old copy")
    func oldCopyRefused() async throws {
        let (deployment, file) = try await Self.prepare("olga")
        defer { deployment.terminate() }
        let container = file + ".coffer"
        try FileManager.default.copyItem(atPath: container, toPath: file + ".backup.coffer")
        let before = try Data(contentsOf: URL(fileURLWithPath: container))
        let first = try await deployment.coffer(["retrieve", container, "-o", file + ".1"], user: "olga")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("re-sealed"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: container)) != before, "the container was rewritten")
        #expect(try await deployment.coffer(["verify", container], user: "olga").status == 0, "the new receipt verifies")

        let old = try await deployment.coffer(["retrieve", file + ".backup.coffer", "-o", file + ".2"], user: "olga")
        #expect(old.status == 77)
        #expect(old.stderr.contains("old copy"), "\(old.stderr)")
        #expect(!FileManager.default.fileExists(atPath: file + ".2"))

        let again = try await deployment.coffer(["retrieve", container, "-o", file + ".3"], user: "olga")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file + ".3")) == Data("the plan, version 1".utf8))
    }

    @Test("retrieving onto the container itself is refused before anything is asked, and the container is untouched")
    func outputIsTheContainer() async throws {
        let (deployment, file) = try await Self.prepare("quinn")
        defer { deployment.terminate() }
        let container = file + ".coffer"
        let before = try Data(contentsOf: URL(fileURLWithPath: container))
        let refused = try await deployment.coffer(["retrieve", container, "-o", container, "--force"], user: "quinn")
        #expect(refused.status == 64, "\(refused.stderr)")
        #expect(refused.stderr.contains("is the container itself"), "\(refused.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: container)) == before)
        let opened = try await deployment.coffer(["retrieve", container, "-o", file + ".1"], user: "quinn")
        #expect(opened.status == 0, "\(opened.stderr)")
    }

    @Test("killed after receiving the new key but before replacing the container: the container still opens",
          arguments: ["before-reseal-replace", "before-reseal-confirm"])
    func crashDuringReseal(point: String) async throws {
        let (deployment, file) = try await Self.prepare("pete")
        defer { deployment.terminate() }
        let container = file + ".coffer"
        var environment = deployment.clientEnvironment(user: "pete")
        environment["COFFER_FAULT"] = point
        let killed = try TestProcess(TestEnvironment.binary("coffer"), ["retrieve", container, "-o", file + ".1"], environment: environment, logDirectory: deployment.directory)
        #expect(try await killed.wait() == 128 + 9, "the fault point was not reached: \(killed.standardError)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: deployment.directory).filter { $0.contains("coffer-tmp") }
        #expect(leftovers.count <= 1, "at most the one temporary file of the killed write: \(leftovers)")

        let retried = try await deployment.coffer(["retrieve", container, "-o", file + ".2"], user: "pete")
        #expect(retried.status == 0, "\(point): \(retried.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file + ".2")) == Data("the plan, version 1".utf8))
        let history = try await deployment.coffer(["history", container], user: "pete")
        #expect(history.stdout.contains("reseal"))
    }

    @Test("list shows the owner's records; delete destroys the key for good and the history keeps it")
    func listAndDelete() async throws {
        let (deployment, file) = try await Self.prepare("quinn")
        defer { deployment.terminate() }
        let listed = try await deployment.coffer(["list", "--json"], user: "quinn")
        let records = try JSONDecoder().decode(Records.self, from: Data(listed.stdout.utf8)).records
        #expect(records.map(\.fileName) == ["plan.txt"])
        #expect(records.first?.deleted == false)

        let unconfirmed = try await deployment.coffer(["delete", file + ".coffer"], user: "quinn")
        #expect(unconfirmed.status == 64, "no terminal and no --yes: nothing is deleted")
        let deleted = try await deployment.coffer(["delete", file + ".coffer", "--yes"], user: "quinn")
        #expect(deleted.status == 0, "\(deleted.stderr)")
        let refused = try await deployment.coffer(["retrieve", file + ".coffer", "-o", file + ".out"], user: "quinn")
        #expect(refused.status == 77)
        #expect(refused.stderr.contains("destroyed"))
        let after = try JSONDecoder().decode(Records.self, from: Data(try await deployment.coffer(["list", "--json"], user: "quinn").stdout.utf8)).records
        #expect(after.first?.deleted == true)
        let history = try await deployment.coffer(["history", file + ".coffer"], user: "quinn")
        #expect(history.stdout.contains("delete"))
        #expect(history.stdout.contains("key_destroyed"))
    }
}
