import CofferContainer
import CofferTesting
import Foundation
import Testing

/// Real processes, real TLS, real ZeroMQ, a real store: the `coffer` binary against
/// `coffer-transaction` and `coffer-database`, once on SQLite and once on PostgreSQL.
@Suite(.serialized) struct EndToEndTests {
    enum Store: String, CaseIterable, Sendable { case sqlite, postgresql }

    static var stores: [Store] {
        TestEnvironment.postgresURL != nil || TestEnvironment.postgresRequired ? Store.allCases : [.sqlite]
    }

    static func deploy(_ store: Store, device: Bool = false) async throws -> LocalDeployment {
        switch store {
        case .sqlite: try await LocalDeployment.start(device: device)
        case .postgresql: try await LocalDeployment.start(store: try await TestEnvironment.makePostgresDatabase(), device: device)
        }
    }

    /// A store, and whether the transaction tier keeps its keys in a SoftHSM2 token instead of files.
    struct Setup: Sendable, CustomTestStringConvertible {
        let store: Store
        let device: Bool
        var testDescription: String { store.rawValue + (device ? ", keys in a SoftHSM2 token" : ", key files") }
    }

    /// Every store with key files, and the last (PostgreSQL when there is one) with a token.
    static var setups: [Setup] {
        stores.map { Setup(store: $0, device: false) } + [Setup(store: stores.last ?? .sqlite, device: true)]
    }

    struct History: Decodable {
        struct Event: Decodable { let kind: String; let detail: String; let fileName: String? }
        let events: [Event]
    }

    @Test("register, login, save 10 MiB, retrieve byte for byte, and the history shows the save, the retrieval and the re-seal", arguments: setups)
    func saveAndRetrieve(setup: Setup) async throws {
        let deployment = try await Self.deploy(setup.store, device: setup.device)
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("alice")

        let work = deployment.directory + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let original = Data((0..<(10 << 20)).map { _ in UInt8.random(in: 0...255) })
        try original.write(to: URL(fileURLWithPath: work + "/report.bin"))

        let saved = try await deployment.coffer(["save", work + "/report.bin"], user: "alice")
        #expect(saved.status == 0, "\(saved.stderr)\n\(deployment.tierLogs)")
        #expect(FileManager.default.fileExists(atPath: work + "/report.bin.coffer"))
        let container = try Data(contentsOf: URL(fileURLWithPath: work + "/report.bin.coffer"))
        #expect(container.range(of: original.prefix(4096)) == nil, "plaintext must not appear in the container")

        let retrieved = try await deployment.coffer(["retrieve", work + "/report.bin.coffer", "-o", work + "/copy.bin"], user: "alice")
        #expect(retrieved.status == 0, "\(retrieved.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: work + "/copy.bin")) == original)

        let refused = try await deployment.coffer(["retrieve", work + "/report.bin.coffer", "-o", work + "/copy.bin"], user: "alice")
        #expect(refused.status == 73, "an existing output is never replaced without --force")
        #expect(try Data(contentsOf: URL(fileURLWithPath: work + "/copy.bin")) == original)

        let history = try await deployment.coffer(["history", work + "/report.bin.coffer", "--json"], user: "alice")
        #expect(history.status == 0, "\(history.stderr)")
        let events = try JSONDecoder().decode(History.self, from: Data(history.stdout.utf8)).events
        #expect(events.map(\.kind) == ["save", "retrieve", "reseal", "key_destroyed"])
        #expect(events.allSatisfy { $0.fileName == "report.bin" })
    }

    @Test("a wrong password gets one clear line and exit 77, and the account history shows the failed attempt", arguments: stores)
    func wrongPassword(store: Store) async throws {
        let deployment = try await Self.deploy(store)
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("bob")
        let failed = try await deployment.coffer(["login", "--password-stdin", "--timeout", "60"], user: "bob", stdin: "not the password\n")
        #expect(failed.status == 77)
        #expect(failed.stderr.split(separator: "\n").count == 1, "one line: \(failed.stderr)")
        #expect(failed.stderr.contains("wrong user name or password"))
        #expect(!failed.stderr.contains("not the password"))

        let history = try await deployment.coffer(["history", "--json"], user: "bob")
        let events = try JSONDecoder().decode(History.self, from: Data(history.stdout.utf8)).events
        #expect(events.map(\.kind) == ["register", "login", "login_failed"])
        #expect(events.last?.detail == "wrong password")
    }

    @Test("user B cannot retrieve or read the history of user A's container")
    func otherUsersRecords() async throws {
        let deployment = try await Self.deploy(.sqlite)
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("alice")
        try await deployment.registerAndLogin("mallory")
        let file = deployment.directory + "/secret.txt"
        try Data("alice's secret".utf8).write(to: URL(fileURLWithPath: file))
        #expect(try await deployment.coffer(["save", file], user: "alice").status == 0)

        let stolen = try await deployment.coffer(["retrieve", file + ".coffer", "-o", deployment.directory + "/loot"], user: "mallory")
        #expect(stolen.status == 77)
        #expect(!FileManager.default.fileExists(atPath: deployment.directory + "/loot"))
        let peek = try await deployment.coffer(["history", file + ".coffer"], user: "mallory")
        #expect(peek.status == 77)

        let mallorys = try await deployment.coffer(["history", "--json"], user: "mallory")
        let events = try JSONDecoder().decode(History.self, from: Data(mallorys.stdout.utf8)).events
        #expect(events.last?.kind == "retrieve_refused", "the attempt is audited under the one who made it")
        let alices = try await deployment.coffer(["history", file + ".coffer", "--json"], user: "alice")
        #expect(try JSONDecoder().decode(History.self, from: Data(alices.stdout.utf8)).events.map(\.kind) == ["save"])

        let list = try await deployment.coffer(["list", "--json"], user: "mallory")
        #expect(list.status == 0)
        #expect(!list.stdout.contains("secret.txt"), "mallory's list does not show alice's record")
        let shred = try await deployment.coffer(["delete", file + ".coffer", "--yes"], user: "mallory")
        #expect(shred.status == 77)
        let still = try await deployment.coffer(["retrieve", file + ".coffer", "-o", deployment.directory + "/mine"], user: "alice")
        #expect(still.status == 0, "alice's record survived mallory's delete: \(still.stderr)")
    }

    @Test("a flipped byte anywhere in a container, or a truncation, is refused with a clear error and leaves no output")
    func damagedContainers() async throws {
        let deployment = try await Self.deploy(.sqlite)
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("carol")
        let file = deployment.directory + "/doc.bin"
        try Data((0..<(200_000)).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: file))
        #expect(try await deployment.coffer(["save", file], user: "carol").status == 0)
        let container = try Data(contentsOf: URL(fileURLWithPath: file + ".coffer"))
        #expect(container[7] == ContainerFormat.version)
        let payload = try ContainerHeader.parse(Array(container)).payload
        // Format 2: magic, version, suite, salt, size, record id, key id, HPKE enc, wrapped key, receipt
        // length, MAC, each chunk, the receipt after the payload, the last byte.
        let headerFields = [0, 7, 9, 20, 46, 53, 60, 90, 150, 168, 200, 219, 230, 252]
        let positions = headerFields + [payload.lowerBound, payload.lowerBound + 65_551, payload.lowerBound + 65_552, payload.lowerBound + 150_000,
                                        payload.upperBound - 1, payload.upperBound, payload.upperBound + 40, container.count - 1]
        for position in positions {
            var altered = container
            altered[position] ^= 0x04
            let path = deployment.directory + "/altered.coffer"
            try altered.write(to: URL(fileURLWithPath: path))
            let out = deployment.directory + "/altered.out"
            let result = try await deployment.coffer(["retrieve", path, "-o", out], user: "carol")
            #expect(result.status != 0, "flip at \(position) was accepted")
            #expect([65, 77].contains(result.status), "flip at \(position): \(result.status) \(result.stderr)")
            #expect(result.stderr.hasPrefix("coffer: "), "flip at \(position): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out), "flip at \(position) left an output file")
        }
        for length in [0, 5, 100, 252, payload.lowerBound, payload.lowerBound + 65_552, payload.upperBound, container.count - 1] {
            let path = deployment.directory + "/short.coffer"
            try container.prefix(length).write(to: URL(fileURLWithPath: path))
            let out = deployment.directory + "/short.out"
            let result = try await deployment.coffer(["retrieve", path, "-o", out], user: "carol")
            #expect(result.status == 65, "truncation to \(length): \(result.status) \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: deployment.directory).filter { $0.contains("coffer-tmp") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }
}
