import CofferStorage
import CofferTesting
import Foundation
import Testing

/// The tier link under faults: several database processes, retries, idempotent requests.
@Suite(.serialized) struct ReliabilityTests {
    typealias Store = EndToEndTests.Store

    static func deploy(_ store: Store, databases: Int, arguments: [String] = []) async throws -> LocalDeployment {
        switch store {
        case .sqlite: try await LocalDeployment.start(transactionArguments: arguments, databases: databases)
        case .postgresql: try await LocalDeployment.start(store: try await TestEnvironment.makePostgresDatabase(), transactionArguments: arguments, databases: databases)
        }
    }

    static func count(_ sql: String, in store: String) throws -> Int64 {
        let db = try StoreLocation(store).connect()
        return try db.query(sql, []).first?.int(0) ?? -1
    }

    @Test("with one of two database processes frozen, saves succeed by retrying on the other; when it thaws, the stale requests change nothing", arguments: EndToEndTests.stores)
    func frozenDatabaseProcess(store: Store) async throws {
        let deployment = try await Self.deploy(store, databases: 2, arguments: ["--database-attempt-ms", "700"])
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("olga")
        var files: [String] = []
        // Four saves: the link spreads sends over both processes, and background calls (the
        // checkpointer's) can shift which one a given save goes to; with four, one reaches the frozen one.
        for n in 0..<4 {
            let file = deployment.directory + "/report-\(n).txt"
            try Data("report \(n) \(UUID())".utf8).write(to: URL(fileURLWithPath: file))
            files.append(file)
        }

        // The link sends only to processes whose CURVE handshake is done, and a frozen process
        // finishes none: a request answered while the first process is frozen shows the second
        // is connected before it is frozen in turn.
        deployment.databases[0].signal(SIGSTOP)
        let warmUp = try await deployment.coffer(["list"], user: "olga")
        deployment.databases[0].signal(SIGCONT)
        #expect(warmUp.status == 0, "\(warmUp.stderr)")
        let loggedBefore = deployment.transaction?.standardError.count ?? 0

        deployment.databases[1].signal(SIGSTOP)
        for file in files {
            let saved = try await deployment.coffer(["save", file], user: "olga")
            #expect(saved.status == 0, "\(saved.stderr)\n\(deployment.tierLogs)")
        }
        deployment.databases[1].signal(SIGCONT)
        try await Task.sleep(for: .seconds(2))

        #expect(deployment.transaction?.standardError.dropFirst(loggedBefore).contains("retrying a database-tier request") == true, "an attempt reached the frozen process")
        #expect(try Self.count("SELECT COUNT(*) FROM records", in: deployment.store) == Int64(files.count), "one record per acknowledged save")
        #expect(try Self.count("SELECT COUNT(*) FROM audit_log WHERE kind = 'save'", in: deployment.store) == Int64(files.count), "one audit entry per save")
        for file in files {
            let out = file + ".copy"
            let retrieved = try await deployment.coffer(["retrieve", file + ".coffer", "-o", out], user: "olga")
            #expect(retrieved.status == 0, "\(retrieved.stderr)")
            #expect(FileManager.default.contents(atPath: out) == FileManager.default.contents(atPath: file))
        }
        let verifiedHistory = try await deployment.coffer(["history", files[0] + ".coffer", "--verify"], user: "olga")
        #expect(verifiedHistory.status == 0, "\(verifiedHistory.stderr)")
        let export = deployment.directory + "/export"
        #expect(try await deployment.admin(["audit", "export", export]).status == 0)
        let verified = try await deployment.admin(["audit", "verify", export, "--key", deployment.directory + "/keys/transaction/checkpoint.vkey"])
        #expect(verified.status == 0, "\(verified.stdout)")
    }
}

/// Several transaction processes, and a client that fails over between them.
@Suite(.serialized) struct FailoverTests {
    @Test("a client given two transaction processes keeps working when the first is killed; its session is valid on both")
    func clientFailover() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        let first = deployment.serverURL.replacingOccurrences(of: "https://127.0.0.1", with: "localhost")
        let second = try await deployment.startAnotherTransaction()
        deployment.clientServers = "\(first),\(second)"
        try await deployment.registerAndLogin("quinn")
        let file = deployment.directory + "/plan.txt"
        try Data("plan \(UUID())".utf8).write(to: URL(fileURLWithPath: file))
        #expect(try await deployment.coffer(["save", file], user: "quinn").status == 0)

        deployment.transaction?.killAndReap()
        let retrieved = try await deployment.coffer(["retrieve", file + ".coffer", "-o", file + ".copy"], user: "quinn")
        #expect(retrieved.status == 0, "\(retrieved.stderr)")
        #expect(FileManager.default.contents(atPath: file + ".copy") == FileManager.default.contents(atPath: file))
        let history = try await deployment.coffer(["history", file + ".coffer", "--verify"], user: "quinn")
        #expect(history.status == 0, "\(history.stderr)")

        deployment.clientServers = first
        let alone = try await deployment.coffer(["list"], user: "quinn")
        #expect(alone.status == 69, "with only the dead address: \(alone.stderr)")
        #expect(alone.stderr.contains("cannot reach the key service"))
    }
}

/// Killing the client anywhere never leaves a half-written file.
@Suite(.serialized) struct ClientCrashTests {
    @Test("the client killed at random moments of saves and retrieves leaves the original, the container and the output each intact or fully replaced")
    func killedClient() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("rita")
        let file = deployment.directory + "/big.bin"
        let original = Data((0..<(24 << 20)).map { _ in UInt8.random(in: 0...255) })
        try original.write(to: URL(fileURLWithPath: file))
        let container = file + ".coffer", output = deployment.directory + "/out.bin"
        let started = ContinuousClock.now
        #expect(try await deployment.coffer(["save", file], user: "rita").status == 0)
        // Kill within the span an operation takes here, so that every kill lands mid-operation.
        // The first save is the slowest (nothing is cached yet): each operation that ends before its
        // kill shortens the span to what that one took, so that later kills land mid-operation.
        var spanMs = Self.milliseconds(ContinuousClock.now - started)

        var kills = 0
        for round in 0..<8 {
            let before = FileManager.default.contents(atPath: container)
            let arguments = round.isMultiple(of: 2) ? ["save", file, "--force"] : ["retrieve", container, "-o", output, "--force"]
            let launched = ContinuousClock.now
            let process = try TestProcess(TestEnvironment.binary("coffer"), arguments, environment: deployment.clientEnvironment(user: "rita"),
                                          logDirectory: deployment.directory)
            try await Task.sleep(for: .milliseconds(Int.random(in: 10...max(11, spanMs * 8 / 10))))
            if process.isRunning {
                process.signal(SIGKILL)
                kills += 1
                _ = try await process.wait(timeout: .seconds(120))
            } else {
                _ = try await process.wait(timeout: .seconds(120))
                spanMs = max(20, min(spanMs, Self.milliseconds(ContinuousClock.now - launched)))
            }

            #expect(FileManager.default.contents(atPath: file) == original, "the original is never touched")
            let after = FileManager.default.contents(atPath: container)
            if after != before {
                let verified = try await deployment.coffer(["verify", container], user: "rita")
                #expect(verified.status == 0, "a changed container is a complete one: \(verified.stderr)")
            }
            if let out = FileManager.default.contents(atPath: output) {
                #expect(out == original, "an output is complete or absent")
            }
        }
        // Whatever happened, the newest container opens, and no temporary file is left behind.
        let final = try await deployment.coffer(["retrieve", container, "-o", output, "--force"], user: "rita")
        #expect(final.status == 0, "\(final.stderr)")
        #expect(FileManager.default.contents(atPath: output) == original)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: deployment.directory).filter { $0.contains(".coffer-tmp-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        #expect(kills > 0)
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let parts = duration.components
        return Int(parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000)
    }
}

/// Back pressure: a slow database tier fills a bounded queue; the rest is refused at once; it recovers.
@Suite(.serialized) struct BackpressureTests {
    @Test("with the database tier frozen, requests beyond the queue limit get 503 busy at once, the others 503 after the timeout, and service resumes when it thaws")
    func boundedQueue() async throws {
        // The timeout is long enough that all six clients are waiting at once even when starting
        // their processes is slow on a busy machine: only then are some refused at once. The link
        // keeps the frozen process connected past it, so requests queue for it rather than finding
        // no process connected once its heartbeats have gone unanswered for the default 6 s.
        let deployment = try await LocalDeployment.start(transactionArguments: [
            "--database-queue", "2", "--database-timeout", "8", "--database-heartbeat-seconds", "120",
        ])
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("sam")
        let database = try #require(deployment.database)
        database.signal(SIGSTOP)
        let results = try await withThrowingTaskGroup(of: CommandResult.self) { group in
            for _ in 0..<6 { group.addTask { try await deployment.coffer(["list"], user: "sam") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.status == 69 }, "\(results.map(\.stderr))")
        #expect(results.contains { $0.stderr.contains("too many requests are waiting") }, "refused at once: \(results.map(\.stderr))")
        #expect(results.contains { $0.stderr.contains("retry after") }, "503 carries Retry-After")
        database.signal(SIGCONT)
        let recovered = try await deployment.coffer(["list"], user: "sam")
        #expect(recovered.status == 0, "\(recovered.stderr)")
    }
}
