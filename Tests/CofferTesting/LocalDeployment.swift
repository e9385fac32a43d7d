import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real Coffer deployment for one test: keys from `coffer-admin init`, a CA and TLS certificate
/// from `openssl`, and the real `coffer-database` and `coffer-transaction` processes on free loopback ports.
public final class LocalDeployment: @unchecked Sendable {
    public let directory: String
    public let store: String
    public private(set) var databaseEndpoint = ""
    public private(set) var serverURL = ""
    public private(set) var database: TestProcess?
    /// Every database process, when the deployment runs several; `database` is the first.
    public private(set) var databases: [TestProcess] = []
    public private(set) var databaseEndpoints: [String] = []
    public private(set) var transaction: TestProcess?
    public let caFile: String
    let logs: String
    /// Extra flags for every `coffer-transaction` process started from now on.
    public var transactionArguments: [String] = []
    /// The health-probe port of each database process, in order.
    public private(set) var databaseHealthPorts: [Int] = []
    /// Where the last started transaction and database processes answer `GET /metrics`
    /// (`HOST:PORT`), when they were started with `--metrics`.
    public private(set) var transactionMetrics: String?
    public private(set) var databaseMetrics: String?

    /// Extra transaction processes started with ``startAnotherTransaction()``.
    public private(set) var moreTransactions: [(process: TestProcess, url: String)] = []
    /// What clients get as `COFFER_SERVER`; the one transaction process unless set.
    public var clientServers: String?
    /// The SoftHSM2 token holding the transaction tier's keys, when the deployment runs with one.
    public private(set) var device: SoftHSMToken?

    /// Extra flags for every `coffer-database` process (`--central-quota-mib 1`, say).
    public var databaseArguments: [String] = []

    /// The client's environment: server, CA, a private state folder, and `user`.
    ///
    /// - Parameter installation: Another installation of the same user (another laptop): its own
    ///   state folder, device key and sessions.
    public func clientEnvironment(user: String, installation: String? = nil) -> [String: String] {
        [
            "COFFER_SERVER": clientServers ?? serverURL.replacingOccurrences(of: "https://127.0.0.1", with: "localhost"),
            "COFFER_CA": caFile,
            "COFFER_HOME": directory + "/client-" + user + (installation.map { "-" + $0 } ?? ""),
            "COFFER_USER": user,
            "PATH": "/usr/bin:/bin",
        ]
    }

    /// Creates keys and certificates and starts both tiers.
    ///
    /// - Parameter store: A postgresql:// URL, or `nil` for a SQLite file in the deployment folder.
    /// - Parameter transactionArguments: Extra flags for `coffer-transaction`.
    ///   - databases: How many database processes to run against the one store.
    ///   - device: Keep the transaction tier's keys in a SoftHSM2 token made for this deployment
    ///     (`coffer-admin init --pkcs11-module`) instead of key files.
    ///   - tlsKeyInToken: With `device`, whether the TLS key is the token's too (else a file).
    public static func start(store: String? = nil, transactionArguments: [String] = [], databaseArguments: [String] = [], databases: Int = 1,
                             device: Bool = false, tlsKeyInToken: Bool = true) async throws -> LocalDeployment {
        let directory = try TestEnvironment.makeTemporaryDirectory("deployment")
        let deployment = LocalDeployment(directory: directory, store: store ?? directory + "/coffer.sqlite")
        deployment.transactionArguments = transactionArguments
        deployment.databaseArguments = databaseArguments
        if device {
            deployment.device = try await SoftHSMToken.make(in: directory + "/softhsm")
            deployment.device?.tlsKeyInToken = tlsKeyInToken
        }
        try await deployment.initialize()
        for _ in 0..<databases {
            try await deployment.startDatabase(endpoint: "tcp://127.0.0.1:*")
            deployment.databases.append(deployment.database!)
            deployment.databaseEndpoints.append(deployment.databaseEndpoint)
        }
        deployment.database = deployment.databases.first
        deployment.databaseEndpoint = deployment.databaseEndpoints.first ?? ""
        try await deployment.startTransaction()
        return deployment
    }

    private init(directory: String, store: String) {
        self.directory = directory
        self.store = store
        self.caFile = directory + "/tls/ca.crt"
        self.logs = directory + "/logs"
        try? FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
    }

    private func initialize() async throws {
        if let device {
            try await runChecked(TestEnvironment.binary("coffer-admin"), ["init", directory + "/keys"] + device.adminArguments)
            _ = try await TestCertificates.make(in: directory + "/tls", tsaPublicKey: directory + "/keys/transaction/signing.public.pem",
                                                serverPublicKey: device.tlsKeyInToken ? directory + "/keys/transaction/tls.public.pem" : nil)
        } else {
            try await runChecked(TestEnvironment.binary("coffer-admin"), ["init", directory + "/keys"])
            _ = try await TestCertificates.make(in: directory + "/tls", tsaKey: directory + "/keys/transaction/signing.key.pem")
        }
    }

    /// The KEK file transaction processes started from now on wrap new keys with (a rotation changes it).
    public lazy var kekFile = directory + "/keys/transaction/kek.b64"
    /// The checkpoint key transaction processes started from now on sign with.
    public lazy var checkpointKeyFile = directory + "/keys/transaction/checkpoint.key"
    /// The identity key and its time-stamping certificate transaction processes started from now on
    /// use (an identity rotation changes them).
    public lazy var signingKeyFile = directory + "/keys/transaction/signing.key.pem"
    public lazy var tsaCertificateFile = directory + "/tls/tsa.crt"

    /// The transaction tier's flags for its keys: the key files, or the token.
    private var keyArguments: [String] {
        if let device { return device.transactionArguments }
        return ["--signing-key", signingKeyFile, "--kek", kekFile, "--checkpoint-key", checkpointKeyFile]
    }

    /// The environment every process of the deployment gets (the token's configuration, with one).
    var baseEnvironment: [String: String] {
        ["PATH": "/usr/bin:/bin"].merging(device?.environment ?? [:]) { $1 }
    }

    /// Starts (or restarts) the database tier on `endpoint` and waits until it is ready.
    public func startDatabase(endpoint: String) async throws {
        let (process, bound, healthPort) = try await launchDatabase(endpoint: endpoint, healthPort: 0)
        (database, databaseEndpoint) = (process, bound)
        databaseHealthPorts.append(healthPort)
    }

    /// Kills database process `index` (if it runs) and starts it again on its endpoint.
    public func restartDatabase(_ index: Int) async throws {
        databases[index].killAndReap()
        let (process, _, healthPort) = try await launchDatabase(endpoint: databaseEndpoints[index], healthPort: 0)
        databases[index] = process
        databaseHealthPorts[index] = healthPort
        if index == 0 { database = process }
    }

    /// Kills transaction process `index` (0 is ``transaction``, then ``moreTransactions``) and starts
    /// it again on its port, with its checkpoint state.
    /// With `graceful`, it is stopped as a service manager stops it (SIGTERM, then a drain) instead.
    public func restartTransactionProcess(_ index: Int, graceful: Bool = false) async throws {
        let (first, firstURL) = (transaction, serverURL)
        let url = index == 0 ? serverURL : moreTransactions[index - 1].url
        let old = index == 0 ? transaction : moreTransactions[index - 1].process
        if graceful { await old?.stop() } else { old?.killAndReap() }
        let port = url.split(separator: ":").last.map(String.init) ?? "0"
        try await startTransaction(port: port, checkpointState: directory + (index == 0 ? "/checkpoint.state" : "/checkpoint-\(index + 1).state"))
        if index > 0 {
            moreTransactions[index - 1].process = transaction!
            (transaction, serverURL) = (first, firstURL)
        }
    }

    /// Starts one more database process on a free port, with `curveSecret` as its CURVE key (a
    /// rotation's new key) or the deployment's; returns its endpoint, which transaction processes
    /// started from now on connect to as well.
    public func startAnotherDatabase(curveSecret: String? = nil) async throws -> String {
        let (process, bound, healthPort) = try await launchDatabase(endpoint: "tcp://127.0.0.1:*", healthPort: 0, curveSecret: curveSecret)
        if databases.isEmpty, let database { databases = [database] }
        databases.append(process)
        databaseEndpoints.append(bound)
        databaseHealthPorts.append(healthPort)
        return bound
    }

    /// Starts a database process; returns it, its bound endpoint and its health-probe port.
    private func launchDatabase(endpoint: String, healthPort: Int, curveSecret: String? = nil) async throws -> (TestProcess, String, Int) {
        let ready = directory + "/database.ready"
        unlink(ready)
        let database = try TestProcess(
            TestEnvironment.binary("coffer-database"),
            ["--endpoint", endpoint, "--store", store, "--curve-secret-key", curveSecret ?? directory + "/keys/database/curve.secret",
             "--allow-list", directory + "/keys/database/allow.list", "--ready-file", ready, "--log-level", "debug",
             "--health", "127.0.0.1:\(healthPort)"] + databaseArguments,
            environment: ["PATH": "/usr/bin:/bin"], logDirectory: logs
        )
        let lines = try await waitForFile(ready, process: database).split(separator: "\n")
        let health = lines.first { $0.hasPrefix("health=") }.flatMap { Int($0.split(separator: ":").last ?? "") } ?? 0
        databaseMetrics = lines.first { $0.hasPrefix("metrics=") }.map { String($0.dropFirst("metrics=".count)) }
        return (database, String(lines.first ?? ""), health)
    }

    /// Starts one more transaction process of the same deployment on a free port; returns its
    /// `localhost:PORT` address.
    ///
    /// - Parameter environment: More environment variables for it (`COFFER_FAULT`, say).
    public func startAnotherTransaction(environment: [String: String] = [:]) async throws -> String {
        let (first, firstURL) = (transaction, serverURL)
        try await startTransaction(checkpointState: directory + "/checkpoint-\(moreTransactions.count + 2).state", environment: environment)
        moreTransactions.append((transaction!, serverURL))
        (transaction, serverURL) = (first, firstURL)
        return moreTransactions.last!.url.replacingOccurrences(of: "https://127.0.0.1", with: "localhost")
    }

    /// Starts a second transaction process and gives clients both addresses, so that either can
    /// restart while the other serves (a rolling restart).
    public func serveFromTwoTransactionProcesses() async throws {
        let first = serverURL.replacingOccurrences(of: "https://127.0.0.1", with: "localhost")
        let second = try await startAnotherTransaction()
        clientServers = "\(first),\(second)"
    }

    /// Kills the transaction tier and starts a new one; `checkpointState` names its checkpoint state
    /// file (a new name simulates a process on another host that never saw the old checkpoints).
    /// It listens on the same port, so clients see the same server.
    public func restartTransaction(checkpointState: String? = nil) async throws {
        transaction?.killAndReap()
        let port = serverURL.split(separator: ":").last.map(String.init) ?? "0"
        try await startTransaction(port: port, checkpointState: checkpointState)
    }

    private func startTransaction(port: String = "0", checkpointState: String? = nil, environment: [String: String] = [:]) async throws {
        let ready = directory + "/transaction-\(UUID().uuidString.prefix(8)).ready"
        let keys = directory + "/keys/transaction"
        transaction = try TestProcess(
            TestEnvironment.binary("coffer-transaction"),
            ["--port", port, "--tls-cert", directory + "/tls/server.crt", "--tls-key", directory + "/tls/server.key",
             "--tsa-cert", tsaCertificateFile, "--curve-secret-key", keys + "/curve.secret",
             "--database-public-key", keys + "/database-curve.public"] + (databaseEndpoints.isEmpty ? [databaseEndpoint] : databaseEndpoints).flatMap { ["--database", $0] } + [
             "--ready-file", ready] + (transactionArguments.contains("--database-timeout") ? [] : ["--database-timeout", "3"]) + [
             "--checkpoint-state", checkpointState ?? directory + "/checkpoint.state"] + keyArguments
                // The browser module is tested through deploy/local (scripts/browser-test); here it would add a
                // `web_module` entry at each start, moving the audit indexes the tests count on.
                + (transactionArguments.contains("--web-module") ? [] : ["--web-module", "off"]) + transactionArguments,
            environment: baseEnvironment.merging(environment) { $1 }, logDirectory: logs
        )
        let lines = try await waitForFile(ready, process: transaction!).split(separator: "\n")
        serverURL = String(lines.first ?? "")
        transactionMetrics = lines.first { $0.hasPrefix("metrics=") }.map { String($0.dropFirst("metrics=".count)) }
    }

    /// Moves the transaction tier's keys from their files into `token` with `coffer-admin init
    /// --import`; the next start of a transaction process uses the token (its TLS key stays the
    /// file the certificate is for). Returns what init printed.
    public func importKeys(into token: SoftHSMToken) async throws -> CommandResult {
        var token = token
        token.tlsKeyInToken = false
        device = token
        return try await run(TestEnvironment.binary("coffer-admin"), ["init", directory + "/keys", "--import"] + token.adminArguments,
                             environment: baseEnvironment, stdin: nil, timeout: .seconds(60))
    }

    /// Starts a transaction process with this deployment's flags and then `overrides` (a later flag
    /// wins), expecting it to refuse to start; returns how it exited and what it printed.
    public func transactionRefusal(_ overrides: [String], environment: [String: String] = [:]) async throws -> CommandResult {
        let keys = directory + "/keys/transaction"
        let arguments = ["--port", "0", "--tls-cert", directory + "/tls/server.crt", "--tls-key", directory + "/tls/server.key",
                         "--tsa-cert", tsaCertificateFile, "--curve-secret-key", keys + "/curve.secret",
                         "--database-public-key", keys + "/database-curve.public", "--database", databaseEndpoint, "--web-module", "off",
                         "--checkpoint-state", directory + "/refused-checkpoint.state"] + keyArguments + overrides
        return try await run(TestEnvironment.binary("coffer-transaction"), arguments, environment: baseEnvironment.merging(environment) { $1 },
                             stdin: nil, timeout: .seconds(60))
    }

    /// Runs the real `coffer` client as `user`.
    public func coffer(_ arguments: [String], user: String, installation: String? = nil, stdin: String? = nil,
                       timeout: Duration = .seconds(120)) async throws -> CommandResult {
        try await run(TestEnvironment.binary("coffer"), arguments, environment: clientEnvironment(user: user, installation: installation),
                      stdin: stdin, timeout: timeout)
    }

    /// Runs `coffer-admin` with this deployment's keys and database endpoint appended where `--keys` or
    /// `--database` apply (`audit export`, `status` and the `users` subcommands).
    public func admin(_ arguments: [String]) async throws -> CommandResult {
        var arguments = arguments
        if arguments.starts(with: ["audit", "export"]) || arguments.first == "users" || arguments.first == "status"
            || arguments.starts(with: ["keys", "status"]) {
            arguments += ["--keys", directory + "/keys", "--database", databaseEndpoint]
        }
        return try await run(TestEnvironment.binary("coffer-admin"), arguments, environment: baseEnvironment, stdin: nil, timeout: .seconds(120))
    }

    /// How long a command bound by the password hash (register, login, password change) may wait for
    /// its answer: PBKDF2 runs one check at a time per tier, and dozens of deployments share two cores
    /// while the suite runs, so the client's 9-second default is too short on a slow day.
    public static let passwordTimeout = ["--timeout", "60"]

    /// Logs `user` in on another installation of theirs (`nil`: the first one, again).
    public func login(_ user: String, installation: String?, password: String = "correct horse battery staple") async throws {
        let loggedIn = try await coffer(["login", "--password-stdin"] + Self.passwordTimeout, user: user, installation: installation, stdin: password + "\n")
        guard loggedIn.status == 0 else { throw TestError("login failed: \(loggedIn.stderr)") }
    }

    /// Registers `user` and logs in.
    public func registerAndLogin(_ user: String, password: String = "correct horse battery staple") async throws {
        let registered = try await coffer(["register", "--password-stdin"] + Self.passwordTimeout, user: user, stdin: password + "\n")
        guard registered.status == 0 else { throw TestError("register failed: \(registered.stderr)") }
        let loggedIn = try await coffer(["login", "--password-stdin"] + Self.passwordTimeout, user: user, stdin: password + "\n")
        guard loggedIn.status == 0 else { throw TestError("login failed: \(loggedIn.stderr)") }
    }

    /// Stops both tiers and removes the folder.
    public func shutdown() async {
        await transaction?.stop()
        await database?.stop()
        for process in databases { await process.stop() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Kills both tiers at once and removes the folder; for `defer`, where nothing can be awaited.
    public func terminate() {
        for process in ([transaction, database].compactMap({ $0 }) + databases + moreTransactions.map(\.process)) { process.killAndReap() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The logs of both tiers, for failure messages.
    public var tierLogs: String {
        ((databases.isEmpty ? [database].compactMap { $0 } : databases) + [transaction].compactMap { $0 }).map { $0.standardError }.joined(separator: "\n---\n")
    }

    private func runChecked(_ executable: String, _ arguments: [String]) async throws {
        let result = try await run(executable, arguments, environment: baseEnvironment, stdin: nil, timeout: .seconds(60))
        guard result.status == 0 else { throw TestError("\(executable) \(arguments.first ?? "") failed: \(result.stderr)") }
    }

    private func run(_ executable: String, _ arguments: [String], environment: [String: String], stdin: String?, timeout: Duration) async throws -> CommandResult {
        try await CommandResult.run(executable, arguments, environment: environment, stdin: stdin, timeout: timeout, logDirectory: logs)
    }

    private func waitForFile(_ path: String, process: TestProcess) async throws -> String {
        for _ in 0..<300 {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty {
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard process.isRunning else {
                throw TestError("a tier exited during start-up with status \(process.exitStatus.map(String.init) ?? "?"): \(process.standardError)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestError("a tier did not become ready within 15 s: \(process.standardError)")
    }
}

/// What a command printed and how it exited.
public struct CommandResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Runs `executable` to its end (at most `timeout`), its output kept in `logDirectory`.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String], stdin: String? = nil,
                           timeout: Duration, logDirectory: String) async throws -> CommandResult {
        let process = try TestProcess(executable, arguments, environment: environment, stdin: stdin.map { Array($0.utf8) }, logDirectory: logDirectory)
        let status = try await process.wait(timeout: timeout)
        return CommandResult(status: status, stdout: process.standardOutput, stderr: process.standardError)
    }
}
