import CofferTesting
import Foundation
import Testing

/// The patent's figure 3 for real (`deploy/hosts`): a client network, a public network with two
/// transaction hosts and a private network with two database hosts and PostgreSQL (a primary and a
/// synchronous standby), each host a network namespace, joined by a router whose nftables ruleset
/// (deploy/firewall/coffer.nft) is the firewall. Needs root; on a machine that cannot make
/// namespaces the suite fails, saying so, rather than skipping.
///
/// `COFFER_HOSTS_STORM_SECONDS` sets the length of each fault phase of the storm (default 4).
@Suite(.serialized) struct HostsTopologyTests {
    static var phaseSeconds: Int { Int(ProcessInfo.processInfo.environment["COFFER_HOSTS_STORM_SECONDS"] ?? "") ?? 4 }

    @Test("across the namespaces, saves and retrieves work from the client network while every forbidden path is dropped and counted, and a peer without an allow-listed CURVE key is refused")
    func topology() async throws {
        try await HostsDeployment.with { hosts in try await Self.topology(hosts) }
    }

    static func topology(_ hosts: HostsDeployment) async throws {
        try await hosts.registerAndLogin("ada")
        let file = hosts.state + "/letter.txt"
        try Data("sent across the router".utf8).write(to: URL(fileURLWithPath: file))
        let saved = try await hosts.coffer(["save", file], user: "ada")
        #expect(saved.status == 0, "\(saved.stderr)")
        let opened = try await hosts.coffer(["retrieve", file + ".coffer", "-o", file + ".out"], user: "ada")
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(FileManager.default.contents(atPath: file + ".out") == Data("sent across the router".utf8))

        // Allowed: each tier reaches the next one's port.
        #expect(try await hosts.connects(from: "client", to: hosts.address("tx2"), port: 8443))
        #expect(try await hosts.connects(from: "tx1", to: hosts.address("db2"), port: 7701))
        #expect(try await hosts.connects(from: "db1", to: hosts.address("pg1"), port: 5432))

        // Forbidden: each probe is dropped, and the counter of the network it came from rises.
        let forbidden: [(from: String, to: String, port: Int, counter: String, what: String)] = [
            ("client", "db1", 7701, "dropped_from_client", "the database tier's ZeroMQ port from a client"),
            ("client", "db1", 7801, "dropped_from_client", "the database tier's health port from a client"),
            ("client", "pg1", 5432, "dropped_from_client", "PostgreSQL from a client"),
            ("client", "tx1", 9464, "dropped_from_client", "a transaction host's metrics from a client"),
            ("tx1", "pg1", 5432, "dropped_from_public", "PostgreSQL from a transaction host"),
            ("tx1", "client", 22, "dropped_from_public", "the client network from a transaction host"),
            ("db1", "tx1", 8443, "dropped_from_private", "the public network from a database host"),
        ]
        for probe in forbidden {
            let before = try await hosts.counters()[probe.counter] ?? 0
            let connected = try await hosts.connects(from: probe.from, to: hosts.address(probe.to), port: probe.port)
            #expect(!connected, "\(probe.what) is open")
            let after = try await hosts.counters()[probe.counter] ?? 0
            #expect(after > before, "\(probe.what): \(probe.counter) did not rise (\(before) → \(after))")
        }

        // A process in the public network with a CURVE key of its own is refused by the database tier.
        let intruder = hosts.state + "/intruder-keys"
        let made = try await hosts.exec("tx1", [TestEnvironment.binary("coffer-admin"), "init", intruder])
        #expect(made.status == 0, "\(made.stderr)")
        try FileManager.default.removeItem(atPath: intruder + "/admin/database-curve.public")
        try FileManager.default.copyItem(atPath: hosts.state + "/keys/admin/database-curve.public", toPath: intruder + "/admin/database-curve.public")
        let refused = try await hosts.exec("tx1", [TestEnvironment.binary("coffer-admin"), "users", "list", "--keys", intruder,
                                                   "--database", "tcp://\(hosts.address("db1")):7701", "--timeout", "3"])
        #expect(refused.status != 0, "an unknown CURVE key got an answer: \(refused.stdout)")
        let log = (try? String(contentsOfFile: hosts.state + "/logs/database-1.log", encoding: .utf8)) ?? ""
        #expect(log.contains("refused a tier-link peer") && log.contains(hosts.address("tx1")), "the refusal is logged with the peer's address")
        // The operators' key, on the database host, is answered.
        let listed = try await hosts.exec("db1", [TestEnvironment.binary("coffer-admin"), "users", "list", "--keys", hosts.state + "/keys",
                                                  "--database", "tcp://\(hosts.address("db1")):7701"])
        #expect(listed.status == 0 && listed.stdout.contains("ada"), "\(listed.stderr)")
    }

    /// What the storm saw, by phase.
    actor Storm {
        var phase = "calm"
        var acknowledged: [(user: String, file: String, content: Data)] = []
        var done: [String: Int] = [:], failed: [String: [String]] = [:]
        func enter(_ phase: String) { self.phase = phase }
        func record(_ phase: String, saved: (String, String, Data)?, failure: String?) {
            if let saved { acknowledged.append(saved) }
            if let failure { failed[phase, default: []].append(failure) } else { done[phase, default: 0] += 1 }
        }
    }

    @Test("a storm across the namespaces — a transaction host partitioned, the tier link cut, a database host frozen across the router, processes killed, the PostgreSQL primary failed over — loses no acknowledged save, and the tier link absorbs the cut and the freeze")
    func storm() async throws {
        try await HostsDeployment.with { hosts in try await Self.storm(hosts) }
    }

    static func storm(_ hosts: HostsDeployment) async throws {
        let users = ["ann", "ben"]
        for user in users { try await hosts.registerAndLogin(user) }
        let storm = Storm()
        let stopping = TestFlag()
        let work = hosts.state + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let load = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for user in users {
                    group.addTask {
                        var n = 0
                        while !stopping.isSet {
                            let phase = await storm.phase
                            let file = "\(work)/\(user)-\(n).txt"
                            let content = Data("\(user) \(n) \(UUID())".utf8)
                            try content.write(to: URL(fileURLWithPath: file))
                            let saved = try await hosts.coffer(["save", file], user: user)
                            if saved.status != 0 {
                                await storm.record(phase, saved: nil, failure: "save: \(saved.stderr)")
                            } else {
                                let opened = try await hosts.coffer(["retrieve", file + ".coffer", "-o", file + ".out", "--force"], user: user)
                                await storm.record(phase, saved: (user, file, content), failure: opened.status == 0 ? nil : "retrieve: \(opened.stderr)")
                            }
                            n += 1
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let phase = Duration.seconds(Self.phaseSeconds)
        func during(_ name: String, _ start: [String], _ end: [String], longer: Duration = .zero) async throws {
            await storm.enter(name)
            let started = try await hosts.hosts(start)
            #expect(started.status == 0, "\(start): \(started.stderr)")
            try await Task.sleep(for: phase + longer)
            let ended = try await hosts.hosts(end)
            #expect(ended.status == 0, "\(end): \(ended.stderr)")
            await storm.enter("after " + name)
            try await Task.sleep(for: .seconds(2))
        }
        try await Task.sleep(for: .seconds(2))
        let partitionedBefore = try await hosts.counters()["partitioned"] ?? 0
        try await during("tier link cut", ["cut", "tx1", "db1"], ["heal"])
        try await during("database host frozen", ["stop", "database-1"], ["cont", "database-1"])
        // With the first address cut off, each request waits out the client's 5 s connect timeout before
        // it goes to the other host: the phase is long enough for requests to start and finish in it.
        try await during("transaction host partitioned", ["cut", "tx1"], ["heal", "tx1"], longer: .seconds(12))
        try await during("transaction process killed", ["kill", "transaction-1"], ["restart", "transaction-1"])
        try await during("database process killed", ["kill", "database-2"], ["restart", "database-2"])
        // The PostgreSQL primary dies on its host and the synchronous standby on the other is promoted.
        await storm.enter("postgresql failover")
        let promoted = try await hosts.hosts(["promote"])
        #expect(promoted.status == 0, "\(promoted.stderr)")
        try await Task.sleep(for: phase)
        await storm.enter("calm again")
        try await Task.sleep(for: .seconds(2))
        stopping.set()
        try await load.value
        #expect((try await hosts.counters()["partitioned"] ?? 0) > partitionedBefore, "the cuts dropped packets at the router")

        let done = await storm.done, failed = await storm.failed
        for name in ["tier link cut", "database host frozen", "transaction host partitioned", "calm again"] {
            #expect((done[name] ?? 0) > 0, "no request completed while \(name) (done: \(done), failed: \(failed.mapValues(\.count)))")
        }
        // The tier link's retries carry a request past a cut link or a frozen peer to the other database host.
        for name in ["tier link cut", "after tier link cut", "database host frozen", "after database host frozen"] {
            #expect(failed[name, default: []].isEmpty, "\(name): \(failed[name, default: []].prefix(2))")
        }
        // Lost = 0: every acknowledged save opens, byte for byte.
        let acknowledged = await storm.acknowledged
        #expect(acknowledged.count > 0)
        var lost: [String] = []
        for (user, file, content) in acknowledged {
            let out = file + ".final"
            let opened = try await hosts.coffer(["retrieve", file + ".coffer", "-o", out, "--force"], user: user)
            if opened.status != 0 || FileManager.default.contents(atPath: out) != content { lost.append("\(file): \(opened.stderr)") }
        }
        #expect(lost.isEmpty, "\(lost.count) of \(acknowledged.count) acknowledged saves lost: \(lost.prefix(3))")
        print("hosts storm: completed by phase \(done.sorted { $0.key < $1.key }), failed by phase \(failed.mapValues(\.count)), acknowledged \(acknowledged.count), lost \(lost.count)")
        let export = hosts.state + "/audit"
        let exported = try await hosts.exec("db1", [TestEnvironment.binary("coffer-admin"), "audit", "export", export, "--keys", hosts.state + "/keys",
                                                    "--database", "tcp://\(hosts.address("db1")):7701"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let verified = try await hosts.exec("db1", [TestEnvironment.binary("coffer-admin"), "audit", "verify", export,
                                                    "--key", hosts.state + "/keys/transaction/checkpoint.vkey"])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
    }
}
