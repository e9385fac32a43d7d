import CofferTesting
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `deploy/local`, as an operator uses it: one process restarted, a killed one named by `env`, a
/// frozen one thawed and drained by `down`.
@Suite(.serialized) struct DeployLocalTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/local").path

    struct Local {
        let state: String
        let environment: [String: String]

        func run(_ arguments: [String]) async throws -> CommandResult {
            let process = try TestProcess("/bin/bash", [DeployLocalTests.script] + arguments, environment: environment, logDirectory: state + "-logs")
            let status = try await process.wait(timeout: .seconds(90))
            return CommandResult(status: status, stdout: process.standardOutput, stderr: process.standardError)
        }

        func pid(_ name: String) throws -> pid_t {
            try #require(pid_t(try String(contentsOfFile: "\(state)/run/\(name).pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        }
    }

    @Test("restart brings one process back; env names a killed one instead of hiding it; down thaws a frozen process and drains it")
    func operatorCommands() async throws {
        let state = try TestEnvironment.makeTemporaryDirectory("deploy-local")
        try FileManager.default.createDirectory(atPath: state + "-logs", withIntermediateDirectories: true)
        // deploy/local derives its other listeners' ports from these two: they must be free too.
        let https = try TestEnvironment.freePort(alsoFree: [1, 1000, 1001])
        let local = Local(state: state, environment: [
            "PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": state, "COFFER_STATE": state, "COFFER_BUILD": "0", "COFFER_BIN": TestEnvironment.binaryDirectory,
            "COFFER_PORT": String(https), "COFFER_DB_PORT": String(try TestEnvironment.freePort(alsoFree: [100, 200])), "COFFER_TRANSACTIONS": "2",
        ])
        defer {
            for name in ["transaction-1", "transaction-2", "database-1"] {
                if let pid = try? local.pid(name) { kill(pid, SIGCONT); kill(pid, SIGKILL) }
            }
            try? FileManager.default.removeItem(atPath: state)
            try? FileManager.default.removeItem(atPath: state + "-logs")
        }
        let up = try await local.run(["up"])
        #expect(up.status == 0, "\(up.stderr)")

        kill(try local.pid("transaction-1"), SIGKILL)
        try await Task.sleep(for: .milliseconds(300))
        let env = try await local.run(["env"])
        #expect(env.stdout.contains("COFFER_SERVER=localhost:\(https),localhost:\(https + 1);"), "a stable list: \(env.stdout)")
        #expect(env.stderr.contains("transaction-1 is not running"), "the dead one is named: \(env.stderr)")
        let status = try await local.run(["status"])
        #expect(status.stdout.contains("transaction-1: not running"), "\(status.stdout)")

        let restarted = try await local.run(["restart", "transaction-1"])
        #expect(restarted.status == 0, "\(restarted.stderr)")
        #expect(try await local.run(["status"]).stdout.contains("transaction-1: running"))
        #expect(try await local.run(["env"]).stderr.contains("not running") == false)
        let badName = try await local.run(["restart", "nothing-1"])
        #expect(badName.status != 0 && badName.stderr.contains("usage"), "\(badName.stderr)")

        let database = try local.pid("database-1")
        kill(database, SIGSTOP)
        #expect(try await local.run(["status"]).stdout.contains("database-1: frozen"))
        let down = try await local.run(["down"])
        #expect(down.status == 0, "\(down.stderr)")
        #expect(down.stderr.contains("thawing it") && !down.stderr.contains("killing it"), "\(down.stderr)")
        let log = try String(contentsOfFile: state + "/logs/database-1.log", encoding: .utf8)
        #expect(log.contains("database tier stopped"), "drained, not killed: \(log.suffix(400))")
    }
}
