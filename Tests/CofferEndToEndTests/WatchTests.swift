import CofferTesting
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Event-triggered saves: a file changing, and the passing of time.
@Suite(.serialized) struct WatchTests {
    /// Whether `condition` becomes true within `timeout`: a guard against a hang, generous for a loaded machine.
    static func waitFor(_ timeout: Duration = .seconds(60), _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test("coffer watch saves a new file and saves it again when it changes; the container opens to the newest content")
    func savesOnChange() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("rita")
        let folder = deployment.directory + "/inbox"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let watch = try TestProcess(TestEnvironment.binary("coffer"), ["watch", folder, "--debounce", "0.3"],
                                    environment: deployment.clientEnvironment(user: "rita"), logDirectory: deployment.directory)
        defer { watch.killAndReap() }
        #expect(try await Self.waitFor { watch.standardOutput.contains("watching") })

        try Data("draft 1".utf8).write(to: URL(fileURLWithPath: folder + "/notes.txt"))
        #expect(try await Self.waitFor { watch.standardOutput.components(separatedBy: "saved notes.txt").count == 2 }, "\(watch.standardOutput)\(watch.standardError)")
        try Data("draft 2, longer".utf8).write(to: URL(fileURLWithPath: folder + "/notes.txt"))
        #expect(try await Self.waitFor { watch.standardOutput.components(separatedBy: "saved notes.txt").count == 3 }, "\(watch.standardOutput)")
        try Data("hidden".utf8).write(to: URL(fileURLWithPath: folder + "/.hidden"))

        watch.signal(SIGTERM)
        _ = try await watch.wait(timeout: .seconds(10))
        let opened = try await deployment.coffer(["retrieve", folder + "/notes.txt.coffer", "-o", deployment.directory + "/notes.out"], user: "rita")
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(try String(contentsOfFile: deployment.directory + "/notes.out", encoding: .utf8) == "draft 2, longer")
        #expect(!FileManager.default.fileExists(atPath: folder + "/.hidden.coffer"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/notes.txt.coffer.coffer"))
    }

    @Test("coffer watch --every saves files changed since their last save on a schedule")
    func savesOnSchedule() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("sam")
        let folder = deployment.directory + "/ledger"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data("q1".utf8).write(to: URL(fileURLWithPath: folder + "/books.csv"))
        let watch = try TestProcess(TestEnvironment.binary("coffer"), ["watch", folder, "--every", "1s", "--debounce", "3600"],
                                    environment: deployment.clientEnvironment(user: "sam"), logDirectory: deployment.directory)
        defer { watch.killAndReap() }
        #expect(try await Self.waitFor { watch.standardOutput.contains("saved books.csv") }, "the start-up pass saves files without a container")
        try await Task.sleep(for: .milliseconds(1100))
        try Data("q1 and q2".utf8).write(to: URL(fileURLWithPath: folder + "/books.csv"))
        #expect(try await Self.waitFor { watch.standardOutput.components(separatedBy: "saved books.csv").count == 3 }, "\(watch.standardOutput)")
    }

    /// How many lines of `output` say `text`.
    static func count(_ text: String, in output: String) -> Int { output.components(separatedBy: text).count - 1 }

    @Test("coffer watch --retrieve keeps two installations' working copies current: a new save is retrieved, a re-seal is not, shared records too, and a local change is never replaced")
    func retrievesOnChange() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("alice")
        try await deployment.registerAndLogin("bob")
        for installation in ["desk1", "desk2"] { try await deployment.login("alice", installation: installation) }
        let source = deployment.directory + "/source"
        let folders = [deployment.directory + "/desk1", deployment.directory + "/desk2"]
        for folder in [source] + folders { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        func saveCentral(_ text: String, as name: String = "plan.txt", by user: String = "alice") async throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: source + "/" + name))
            let saved = try await deployment.coffer(["save", "--central", "--force", source + "/" + name], user: user)
            #expect(saved.status == 0, "\(saved.stderr)")
        }
        func content(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
        try await saveCentral("version 1")
        try await saveCentral("bob's budget", as: "budget.txt", by: "bob")
        #expect(try await deployment.coffer(["share", "budget.txt", "--with", "alice"], user: "bob").status == 0)

        let watches = try ["desk1", "desk2"].enumerated().map { n, installation in
            try TestProcess(TestEnvironment.binary("coffer"), ["watch", "--retrieve", folders[n], "--every", "1s"],
                            environment: deployment.clientEnvironment(user: "alice", installation: installation), logDirectory: deployment.directory)
        }
        defer { watches.forEach { $0.killAndReap() } }
        for folder in folders {
            #expect(try await Self.waitFor { content(folder + "/plan.txt") == "version 1" && content(folder + "/from-bob/budget.txt") == "bob's budget" },
                    "\(watches.map(\.standardOutput))\(watches.map(\.standardError))")
        }
        // Each retrieve re-sealed and replaced the central copy; neither watch retrieves the other's re-seal.
        try await Task.sleep(for: .seconds(4))
        for watch in watches {
            #expect(Self.count("retrieved plan.txt", in: watch.standardOutput) == 1, "\(watch.standardOutput)")
            #expect(Self.count("retrieved from-bob/budget.txt", in: watch.standardOutput) == 1, "\(watch.standardOutput)")
        }

        // A new save is retrieved by both.
        try await saveCentral("version 2")
        for folder in folders { #expect(try await Self.waitFor { content(folder + "/plan.txt") == "version 2" }) }

        // A working copy changed here is not replaced; the other installation gets the new save.
        try Data("my own edit".utf8).write(to: URL(fileURLWithPath: folders[0] + "/plan.txt"))
        try await saveCentral("version 3")
        #expect(try await Self.waitFor { content(folders[1] + "/plan.txt") == "version 3" })
        #expect(try await Self.waitFor { watches[0].standardOutput.contains("plan.txt was changed here since it was retrieved; it is not replaced") },
                "\(watches[0].standardOutput)")
        #expect(content(folders[0] + "/plan.txt") == "my own edit")
        try await Task.sleep(for: .seconds(2))
        #expect(Self.count("was changed here", in: watches[0].standardOutput) == 1, "said once, not at every pass")

        // An ended session stops the retrieves with a clear line; a new login resumes them.
        #expect(try await deployment.coffer(["logout"], user: "alice", installation: "desk2").status == 0)
        #expect(try await Self.waitFor { watches[1].standardOutput.contains("cannot list your records") }, "\(watches[1].standardOutput)")
        try await deployment.login("alice", installation: "desk2")
        try await saveCentral("version 4")
        #expect(try await Self.waitFor { content(folders[1] + "/plan.txt") == "version 4" }, "\(watches[1].standardOutput)")

        // Every retrieve is in the history, and the central copy still opens.
        let history = try await deployment.coffer(["history", "--json"], user: "alice")
        #expect(Self.count("\"central_download\"", in: history.stdout) >= 6, "\(history.stdout.prefix(300))")
        let opened = try await deployment.coffer(["retrieve", "--central", "plan.txt", "-o", deployment.directory + "/last.txt"], user: "alice")
        #expect(opened.status == 0 && content(deployment.directory + "/last.txt") == "version 4", "\(opened.stderr)")
    }

    @Test("coffer watch refuses a folder that does not exist")
    func missingFolder() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("tom")
        let result = try await deployment.coffer(["watch", deployment.directory + "/nowhere"], user: "tom")
        #expect(result.status == 66)
    }
}
