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
        let db: any SQLConnection = store.hasPrefix("postgresql://") ? try PostgresConnection(url: store) : try SQLiteConnection(path: store)
        return try db.query(sql, []).first?.int(0) ?? -1
    }

    @Test("with one of two database processes frozen, saves succeed by retrying on the other; when it thaws, the stale requests change nothing", arguments: EndToEndTests.stores)
    func frozenDatabaseProcess(store: Store) async throws {
        let deployment = try await Self.deploy(store, databases: 2, arguments: ["--database-attempt-ms", "700"])
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("olga")
        var files: [String] = []
        for n in 0..<2 {
            let file = deployment.directory + "/report-\(n).txt"
            try Data("report \(n) \(UUID())".utf8).write(to: URL(fileURLWithPath: file))
            files.append(file)
        }

        deployment.databases[1].signal(SIGSTOP)
        for file in files {
            let saved = try await deployment.coffer(["save", file], user: "olga")
            #expect(saved.status == 0, "\(saved.stderr)\n\(deployment.tierLogs)")
        }
        deployment.databases[1].signal(SIGCONT)
        try await Task.sleep(for: .seconds(2))

        #expect(deployment.transaction?.standardError.contains("retrying a database-tier request") == true, "an attempt reached the frozen process")
        #expect(try Self.count("SELECT COUNT(*) FROM records", in: deployment.store) == 2, "one record per acknowledged save")
        #expect(try Self.count("SELECT COUNT(*) FROM audit_log WHERE kind = 'save'", in: deployment.store) == 2, "one audit entry per save")
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
