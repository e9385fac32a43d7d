import CofferTesting
import Foundation
import Synchronization

/// A `deploy/hosts` deployment for a test: the namespaces, the router's firewall, PostgreSQL and both
/// tiers, under a prefix of its own so that it never meets another run's namespaces.
final class HostsDeployment: Sendable {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/hosts").path

    let state: String
    let prefix: String
    let logs: String
    /// Each host's address, as `deploy/hosts status` names them (its layout is the script's alone).
    private let addresses: Mutex<[String: String]> = Mutex([:])

    private init(state: String, prefix: String) {
        self.state = state
        self.prefix = prefix
        self.logs = state + "-logs"
    }

    /// Builds the topology and starts everything; throws with `deploy/hosts`' own words when this
    /// machine cannot make namespaces (the test then fails: it is never skipped).
    static func up(transactions: Int = 2, databases: Int = 2) async throws -> HostsDeployment {
        let prefix = "cf" + String((0..<5).map { _ in "abcdefghijklmnopqrstuvwxyz".randomElement()! })
        let deployment = HostsDeployment(state: try TestEnvironment.makeTemporaryDirectory("hosts"), prefix: prefix)
        try FileManager.default.createDirectory(atPath: deployment.logs, withIntermediateDirectories: true)
        let up = try await deployment.hosts(["up"], extra: [
            "COFFER_TRANSACTIONS": "\(transactions)", "COFFER_DATABASES": "\(databases)",
        ], timeout: .seconds(240))
        guard up.status == 0 else {
            await deployment.down()
            throw TestError("deploy/hosts up failed (status \(up.status)): \(up.stderr.suffix(2_000))")
        }
        // Lines `host NAME: ADDRESS (namespace …)`.
        let hosts = try await deployment.hosts(["status"]).stdout.split(separator: "\n").compactMap { line -> (String, String)? in
            let fields = line.split(separator: " ")
            guard fields.count >= 3, fields[0] == "host", fields[1].hasSuffix(":") else { return nil }
            return (String(fields[1].dropLast()), String(fields[2]))
        }
        deployment.addresses.withLock { $0 = Dictionary(hosts) { first, _ in first } }
        // A probe to an address that is missing would "fail to connect" for the wrong reason.
        let expected = ["client", "pg1", "pg2"] + (1...transactions).map { "tx\($0)" } + (1...databases).map { "db\($0)" }
        guard expected.allSatisfy({ !deployment.address($0).isEmpty }) else {
            await deployment.down()
            throw TestError("deploy/hosts status did not name every host's address: \(hosts)")
        }
        return deployment
    }

    /// Runs `body` on a fresh deployment, and takes it down afterwards whatever happened.
    static func with(_ body: (HostsDeployment) async throws -> Void) async throws {
        let hosts = try await up()
        do {
            try await body(hosts)
        } catch {
            await hosts.down()
            throw error
        }
        await hosts.down()
    }

    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["COFFER_HOSTS_STATE"] = state
        environment["COFFER_HOSTS_PREFIX"] = prefix
        environment["COFFER_BUILD"] = "0"
        environment["COFFER_BIN"] = TestEnvironment.binaryDirectory
        // For every process `deploy/hosts` starts, restarts included: a load test's users save as fast as
        // they can, and each attempt of the tier link is short, so a frozen or cut-off database host is
        // left for the other well within a request's time.
        environment["COFFER_TRANSACTION_USER_CHANGES_PER_HOUR"] = "0"
        environment["COFFER_TRANSACTION_DATABASE_TIMEOUT"] = "8"
        environment["COFFER_TRANSACTION_DATABASE_ATTEMPT_MS"] = "1000"
        return environment
    }

    /// Runs `deploy/hosts ARGUMENTS`.
    func hosts(_ arguments: [String], extra: [String: String] = [:], timeout: Duration = .seconds(60)) async throws -> CommandResult {
        try await run("/bin/bash", [Self.script] + arguments, environment: environment.merging(extra) { $1 }, timeout: timeout)
    }

    /// Runs `command` on `host` (client, tx1, db1, pg1, router).
    func exec(_ host: String, _ command: [String], environment extra: [String: String] = [:], stdin: String? = nil,
              timeout: Duration = .seconds(120)) async throws -> CommandResult {
        try await run("/usr/sbin/ip", ["netns", "exec", "\(prefix)-\(host)"] + command, environment: environment.merging(extra) { $1 },
                      stdin: stdin, timeout: timeout)
    }

    /// The address of `host` (client, tx1, db1, pg1, …); empty for no such host, which no probe reaches.
    func address(_ host: String) -> String {
        addresses.withLock { $0[host] ?? "" }
    }

    /// The real `coffer` client as `user`, in the client network.
    func coffer(_ arguments: [String], user: String, stdin: String? = nil) async throws -> CommandResult {
        try await exec("client", [TestEnvironment.binary("coffer")] + arguments, environment: [
            "COFFER_SERVER": "\(address("tx1")):8443,\(address("tx2")):8443", "COFFER_CA": state + "/tls/ca.crt",
            "COFFER_HOME": state + "/client-" + user, "COFFER_USER": user,
        ], stdin: stdin)
    }

    func registerAndLogin(_ user: String) async throws {
        for command in ["register", "login"] {
            let result = try await coffer([command, "--password-stdin"], user: user, stdin: "correct horse battery staple\n")
            guard result.status == 0 else { throw TestError("\(command) failed: \(result.stderr)") }
        }
    }

    /// Whether a TCP connection from `host` to `address:port` opens within two seconds. (SIGKILL: a
    /// process this test runner starts may not see SIGTERM while it waits in connect.)
    func connects(from host: String, to address: String, port: Int) async throws -> Bool {
        try await exec(host, ["timeout", "-s", "KILL", "2", "bash", "-c", "exec 3<>/dev/tcp/\(address)/\(port)"]).status == 0
    }

    /// The firewall's counters, by name: packets.
    func counters() async throws -> [String: Int] {
        let listed = try await hosts(["counters"])
        guard listed.status == 0 else { throw TestError("deploy/hosts counters: \(listed.stderr)") }
        var counters: [String: Int] = [:]
        for line in listed.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, let packets = Int(fields[1]) { counters[String(fields[0])] = packets }
        }
        return counters
    }

    /// Stops everything and deletes the namespaces.
    func down() async {
        _ = try? await hosts(["down"], timeout: .seconds(120))
    }

    private func run(_ executable: String, _ arguments: [String], environment: [String: String], stdin: String? = nil,
                     timeout: Duration) async throws -> CommandResult {
        try await CommandResult.run(executable, arguments, environment: environment, stdin: stdin, timeout: timeout, logDirectory: logs)
    }
}
