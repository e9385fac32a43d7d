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

    @Test("coffer watch refuses a folder that does not exist")
    func missingFolder() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("tom")
        let result = try await deployment.coffer(["watch", deployment.directory + "/nowhere"], user: "tom")
        #expect(result.status == 66)
    }
}
