import CofferTesting
import Foundation
import Testing

/// The fault suite: two transaction processes, two database processes and a PostgreSQL primary with a
/// synchronous standby, under a bounded load of saves and retrieves while processes are killed,
/// restarted and frozen, PostgreSQL is restarted, and once the primary dies and the standby is promoted.
/// Every other save also uploads a central copy. Afterwards every acknowledged save must retrieve byte
/// for byte, every acknowledged central copy must too (downloaded, opened and re-sealed), and the
/// audit log must verify.
///
/// `COFFER_FAULT_SECONDS` sets the length of the load (default 40).
@Suite(.serialized) struct FaultSuiteTests {
    static var seconds: Int { Int(ProcessInfo.processInfo.environment["COFFER_FAULT_SECONDS"] ?? "") ?? 40 }

    /// What the suite counts.
    actor Counts {
        var operations = 0, saves = 0, retrievesDuringLoad = 0, failedDuringLoad = 0
        var faults: [String: Int] = [:]
        var acknowledged: [(user: String, file: String, content: Data)] = []
        /// Saves whose central copy was acknowledged too, with their record id.
        var central: [(user: String, recordID: String, file: String, content: Data)] = []
        func operation(saved: (String, String, Data)?, retrieved: Bool, failed: Bool, recordID: String? = nil) {
            operations += 1
            if let saved { saves += 1; acknowledged.append((saved.0, saved.1, saved.2)) }
            if let saved, let recordID { central.append((saved.0, recordID, saved.1, saved.2)) }
            if retrieved { retrievesDuringLoad += 1 }
            if failed { failedDuringLoad += 1 }
        }
        func fault(_ kind: String) { faults[kind, default: 0] += 1 }
        func acknowledgedBy(_ user: String) -> [(user: String, file: String, content: Data)] { acknowledged.filter { $0.user == user } }
    }

    /// The record id `coffer save --central --json` printed.
    static func recordID(ofCentralSave output: String) -> String? {
        struct Saved: Decodable { struct Save: Decodable { let recordID: String }; let save: Save }
        return try? JSONDecoder().decode(Saved.self, from: Data(output.utf8)).save.recordID
    }

    @Test("fault suite: kills, restarts, freezes and a PostgreSQL failover lose no acknowledged save",
          .enabled(if: FileManager.default.fileExists(atPath: "/usr/lib/postgresql")))
    func faultSuite() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        #expect(try await cluster.standbyIsSynchronous(), "commits wait for the standby")
        let deployment = try await LocalDeployment.start(
            // A load test: its four users save as fast as they can for COFFER_FAULT_SECONDS, so the
            // per-user limit, which is for people, is off.
            store: cluster.url, transactionArguments: ["--database-timeout", "8", "--database-attempt-ms", "1000", "--user-changes-per-hour", "0"], databases: 2
        )
        defer { deployment.terminate() }
        let first = deployment.serverURL.replacingOccurrences(of: "https://127.0.0.1", with: "localhost")
        let second = try await deployment.startAnotherTransaction()
        deployment.clientServers = "\(first),\(second)"
        let users = ["ann", "ben", "cat", "dan"]
        for user in users { try await deployment.registerAndLogin(user) }
        let work = deployment.directory + "/work"

        let counts = Counts()
        let deadline = ContinuousClock.now + .seconds(Self.seconds)
        await withTaskGroup(of: Void.self) { group in
            for user in users {
                group.addTask {
                    try? FileManager.default.createDirectory(atPath: "\(work)/\(user)", withIntermediateDirectories: true)
                    var n = 0
                    while ContinuousClock.now < deadline {
                        n += 1
                        if n % 3 == 0, let old = await counts.acknowledgedBy(user).randomElement() {
                            let result = try? await deployment.coffer(["retrieve", old.file + ".coffer", "-o", old.file + ".during", "--force"], user: user, timeout: .seconds(60))
                            await counts.operation(saved: nil, retrieved: result?.status == 0, failed: result?.status != 0)
                            continue
                        }
                        let file = "\(work)/\(user)/file-\(n).bin"
                        let content = Data((0..<(1_024 + Int.random(in: 0..<8_192))).map { _ in UInt8.random(in: 0...255) })
                        try? content.write(to: URL(fileURLWithPath: file))
                        let centrally = n % 2 == 0
                        let result = try? await deployment.coffer(["save", file, "--json"] + (centrally ? ["--central"] : []), user: user, timeout: .seconds(60))
                        let saved = result?.status == 0
                        let recordID = centrally && saved ? result.flatMap { Self.recordID(ofCentralSave: $0.stdout) } : nil
                        await counts.operation(saved: saved ? (user, file, content) : nil, retrieved: false, failed: !saved, recordID: recordID)
                    }
                }
            }
            group.addTask {
                var failedOver = false
                while ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(Int.random(in: 1_000...2_000)))
                    guard ContinuousClock.now < deadline else { break }
                    let halfway = ContinuousClock.now > deadline - .seconds(Self.seconds / 2)
                    if !failedOver && halfway {
                        failedOver = true
                        try? await cluster.failOver()
                        await counts.fault("postgresql primary killed, standby promoted")
                        continue
                    }
                    switch Int.random(in: 0..<5) {
                    case 0:
                        let index = Int.random(in: 0..<2)
                        deployment.databases[index].signal(SIGKILL)
                        try? await Task.sleep(for: .milliseconds(Int.random(in: 200...1_000)))
                        try? await deployment.restartDatabase(index)
                        await counts.fault("database process killed and restarted")
                    case 1:
                        let index = Int.random(in: 0..<2)
                        try? await deployment.restartTransactionProcess(index)
                        await counts.fault("transaction process killed and restarted")
                    case 2:
                        let index = Int.random(in: 0..<2)
                        deployment.databases[index].signal(SIGSTOP)
                        try? await Task.sleep(for: .milliseconds(Int.random(in: 1_000...3_000)))
                        deployment.databases[index].signal(SIGCONT)
                        await counts.fault("database process frozen and thawed")
                    case 3:
                        try? await cluster.restartPrimary()
                        await counts.fault("postgresql restarted")
                    default:
                        let index = Int.random(in: 0..<2)
                        deployment.databases[index].signal(SIGKILL)
                        try? await deployment.restartDatabase(index)
                        await counts.fault("database process killed and restarted")
                    }
                }
            }
        }

        // Heal: every process runs again, and both transaction processes are ready.
        for index in 0..<2 where !deployment.databases[index].isRunning { try await deployment.restartDatabase(index) }
        if deployment.transaction?.isRunning != true { try await deployment.restartTransactionProcess(0) }
        if deployment.moreTransactions.first?.process.isRunning != true { try await deployment.restartTransactionProcess(1) }
        for port in deployment.databaseHealthPorts.suffix(2) {
            for _ in 0..<60 where await PlainHTTP.get(port: port, path: "/ready")?.status != 200 { try await Task.sleep(for: .milliseconds(500)) }
        }

        var retrieved = 0
        var lost: [String] = []
        for (user, file, content) in await counts.acknowledged {
            let copy = file + ".final"
            let result = try await deployment.coffer(["retrieve", file + ".coffer", "-o", copy, "--force"], user: user, timeout: .seconds(60))
            if result.status == 0, FileManager.default.contents(atPath: copy) == content {
                retrieved += 1
            } else {
                lost.append("\(file): \(result.stderr)")
            }
        }
        // Every acknowledged central copy opens too, from the service alone.
        var centrallyRetrieved = 0
        for (user, recordID, file, content) in await counts.central {
            let copy = file + ".central"
            let result = try await deployment.coffer(["retrieve", "--central", recordID, "-o", copy, "--force"], user: user, timeout: .seconds(60))
            if result.status == 0, FileManager.default.contents(atPath: copy) == content {
                centrallyRetrieved += 1
            } else {
                lost.append("the central copy of \(file): \(result.stderr)")
            }
        }
        let anyUser = users[0]
        if let sample = await counts.acknowledgedBy(anyUser).last {
            let verified = try await deployment.coffer(["history", sample.file + ".coffer", "--verify"], user: anyUser)
            #expect(verified.status == 0, "\(verified.stderr)")
        }
        let export = deployment.directory + "/export"
        let exported = try await deployment.admin(["audit", "export", export])
        #expect(exported.status == 0, "\(exported.stderr)")
        let audit = try await deployment.admin(["audit", "verify", export, "--key", deployment.directory + "/keys/transaction/checkpoint.vkey"])
        #expect(audit.status == 0, "\(audit.stdout)")

        let faults = await counts.faults
        let summary = """
            fault suite (\(Self.seconds) s): operations \(await counts.operations), saves acknowledged \(await counts.saves), \
            retrieves during load \(await counts.retrievesDuringLoad), failed or refused during load \(await counts.failedDuringLoad), \
            faults injected \(faults.values.reduce(0, +)) [\(faults.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))], \
            retrieved after \(retrieved), central copies acknowledged \(await counts.central.count) and retrieved after \(centrallyRetrieved), \
            lost \(lost.count), audit log verifies: \(audit.status == 0)
            """
        print(summary)
        try? summary.write(toFile: NSTemporaryDirectory() + "coffer-fault-suite.txt", atomically: true, encoding: .utf8)
        #expect(lost.isEmpty, "lost acknowledged saves: \(lost.prefix(5))")
        #expect(await counts.saves > 0)
        #expect(await !counts.central.isEmpty, "some central copies were acknowledged")
        #expect(faults["postgresql primary killed, standby promoted"] == 1)
    }
}
