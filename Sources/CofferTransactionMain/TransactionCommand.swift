import ArgumentParser
import CofferServerSupport
import CofferTransaction
import Foundation
import Logging

/// `coffer-transaction`: the public tier. Settings: --config FILE, then COFFER_TRANSACTION_* variables, then flags.
@main
struct TransactionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coffer-transaction",
        abstract: "The Coffer transaction tier: TLS, authentication, keys, receipts.",
        discussion: """
            Serves the HTTPS JSON API (docs/api/openapi.yaml) and reaches the database tier only over
            ZeroMQ with CURVE. Settings come from --config FILE (key = value lines), then
            COFFER_TRANSACTION_<KEY> environment variables, then flags. Keys: host, port, tls-cert,
            tls-key, signing-key, tsa-cert, kek, curve-secret-key, database-public-key, database (comma-separated),
            database-timeout (seconds, retries included), database-attempt-ms, database-queue, session-minutes, lockout-attempts, lockout-minutes, checkpoint-key,
            audit-origin, checkpoint-every, checkpoint-seconds, checkpoint-state, failure-limit-source,
            failure-limit-user, failure-window-seconds, user-change-burst, user-changes-per-hour,
            register-burst, registrations-per-hour, password-workers, password-queue, drain-seconds, max-connections, idle-seconds, log-level. SIGTERM or SIGINT drains and stops it.
            """
    )

    @Option(help: "A config file of `key = value` lines.")
    var config: String?
    @Option(help: "The address to listen on (default 127.0.0.1).")
    var host: String?
    @Option(help: "The TCP port (default 8443; 0 picks a free one).")
    var port: Int?
    @Option(help: "TLS certificate chain, PEM.")
    var tlsCert: String?
    @Option(help: "TLS private key, PEM.")
    var tlsKey: String?
    @Option(help: "Receipt signing key, PEM (mode 0600).")
    var signingKey: String?
    @Option(help: "Time-stamping certificate of the signing key, PEM chain (critical EKU timeStamping).")
    var tsaCert: String?
    @Option(help: "Key-encryption key file (mode 0600).")
    var kek: String?
    @Option(help: "This process's CURVE secret key file (mode 0600).")
    var curveSecretKey: String?
    @Option(help: "The database tier's CURVE public key file.")
    var databasePublicKey: String?
    @Option(help: "A database tier endpoint; repeat for several.")
    var database: [String] = []
    @Option(help: "Seconds one database-tier request may take before a 503 (default 5).")
    var databaseTimeout: Int?
    @Option(help: "Milliseconds one attempt waits before a database-tier request is sent again (default 1500).")
    var databaseAttemptMs: Int?
    @Option(help: "The most requests waiting for the database tier at once; more get 503 at once (default 4096).")
    var databaseQueue: Int?
    @Option(help: "Minutes a login session lasts (default 15).")
    var sessionMinutes: Int?
    @Option(help: "Failed logins in a row that lock an account (default 5).")
    var lockoutAttempts: Int?
    @Option(help: "Minutes an account stays locked (default 15).")
    var lockoutMinutes: Int?
    @Option(help: "The audit checkpoint signing key, base64 Ed25519 (mode 0600).")
    var checkpointKey: String?
    @Option(help: "The audit log's origin: the first line of its checkpoints and the key's name (default coffer/audit).")
    var auditOrigin: String?
    @Option(help: "Sign a checkpoint after this many new audit entries (default 256).")
    var checkpointEvery: Int?
    @Option(help: "Sign a checkpoint at least this often, in seconds, while the log grows (default 10).")
    var checkpointSeconds: Int?
    @Option(help: "A file that keeps the last signed checkpoint across restarts.")
    var checkpointState: String?
    @Option(help: "Failed logins or retrievals per source address per window before attempts are refused at once (default 100).")
    var failureLimitSource: Int?
    @Option(help: "Failed logins or retrievals per user per window before attempts are refused at once (default 10).")
    var failureLimitUser: Int?
    @Option(help: "The failure window in seconds (default 60).")
    var failureWindowSeconds: Int?
    @Option(help: "Saves, retrievals and deletes one user may make at once, after a quiet spell (default 200; 0 turns the limit off).")
    var userChangeBurst: Int?
    @Option(help: "Saves, retrievals and deletes one user regains per hour (default 3600; 0 turns the limit off).")
    var userChangesPerHour: Int?
    @Option(help: "Registrations one source address may make at once (default 20; 0 turns the limit off).")
    var registerBurst: Int?
    @Option(help: "Registrations one source address regains per hour (default 20; 0 turns the limit off).")
    var registrationsPerHour: Int?
    @Option(help: "Password checks (PBKDF2) run at once, which bounds the CPU a flood of logins can take (default half the cores).")
    var passwordWorkers: Int?
    @Option(help: "Password checks that may wait for a worker; beyond them logins and registrations get 503 busy (default 16).")
    var passwordQueue: Int?
    @Option(help: "Seconds SIGTERM waits for requests in flight before exiting anyway (default 15).")
    var drainSeconds: Int?
    @Option(help: "The most connections held at once; requests on connections beyond it get 503 busy with Retry-After (default 16384).")
    var maxConnections: Int?
    @Option(help: "Seconds a connection may go without sending a complete request head or body part before it is closed (default 60).")
    var idleSeconds: Int?
    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?
    @Option(help: "A file to write https://HOST:PORT to once listening.")
    var readyFile: String?

    func run() async throws {
        var c = TransactionTierConfiguration()
        let s: SettingsFile
        do {
            s = try SettingsFile(path: config, environmentPrefix: "COFFER_TRANSACTION")
            c.host = s.string("host", flag: host) ?? c.host
            c.port = try s.int("port", flag: port) ?? c.port
            c.tlsCertificateFile = s.string("tls-cert", flag: tlsCert) ?? c.tlsCertificateFile
            c.tlsKeyFile = s.string("tls-key", flag: tlsKey) ?? c.tlsKeyFile
            c.signingKeyFile = s.string("signing-key", flag: signingKey) ?? c.signingKeyFile
            c.kekFile = s.string("kek", flag: kek) ?? c.kekFile
            c.tsaCertificateFile = s.string("tsa-cert", flag: tsaCert) ?? c.tsaCertificateFile
            c.curveSecretKeyFile = s.string("curve-secret-key", flag: curveSecretKey) ?? c.curveSecretKeyFile
            c.databasePublicKeyFile = s.string("database-public-key", flag: databasePublicKey) ?? c.databasePublicKeyFile
            c.databaseEndpoints = s.list("database", flag: database) ?? c.databaseEndpoints
            if let seconds = try s.int("database-timeout", flag: databaseTimeout) { c.databaseTimeout = .seconds(max(1, seconds)) }
            if let ms = try s.int("database-attempt-ms", flag: databaseAttemptMs) { c.databaseAttemptTimeout = .milliseconds(max(50, ms)) }
            if let limit = try s.int("database-queue", flag: databaseQueue) { c.databaseQueueLimit = max(1, limit) }
            if let minutes = try s.int("session-minutes", flag: sessionMinutes) { c.sessionLifetime = .seconds(60 * max(1, minutes)) }
            if let attempts = try s.int("lockout-attempts", flag: lockoutAttempts) { c.lockoutAttempts = max(1, attempts) }
            if let minutes = try s.int("lockout-minutes", flag: lockoutMinutes) { c.lockoutDuration = .seconds(60 * max(1, minutes)) }
            c.checkpointKeyFile = s.string("checkpoint-key", flag: checkpointKey) ?? c.checkpointKeyFile
            c.auditOrigin = s.string("audit-origin", flag: auditOrigin) ?? c.auditOrigin
            if let every = try s.int("checkpoint-every", flag: checkpointEvery) { c.checkpointPolicy.everyEntries = Int64(max(1, every)) }
            if let seconds = try s.int("checkpoint-seconds", flag: checkpointSeconds) { c.checkpointPolicy.interval = .seconds(max(1, seconds)) }
            c.checkpointPolicy.stateFile = s.string("checkpoint-state", flag: checkpointState)
            if let limit = try s.int("failure-limit-source", flag: failureLimitSource) { c.failureLimits.perSource = max(1, limit) }
            if let limit = try s.int("failure-limit-user", flag: failureLimitUser) { c.failureLimits.perUser = max(1, limit) }
            if let seconds = try s.int("failure-window-seconds", flag: failureWindowSeconds) { c.failureLimits.window = .seconds(max(1, seconds)) }
            if let burst = try s.int("user-change-burst", flag: userChangeBurst) { c.changeLimits.perUser.burst = max(0, burst) }
            if let rate = try s.int("user-changes-per-hour", flag: userChangesPerHour) { c.changeLimits.perUser.perHour = max(0, rate) }
            if let burst = try s.int("register-burst", flag: registerBurst) { c.changeLimits.registrationsPerSource.burst = max(0, burst) }
            if let rate = try s.int("registrations-per-hour", flag: registrationsPerHour) { c.changeLimits.registrationsPerSource.perHour = max(0, rate) }
            if let workers = try s.int("password-workers", flag: passwordWorkers) { c.passwordWork.concurrent = max(1, workers) }
            if let queue = try s.int("password-queue", flag: passwordQueue) { c.passwordWork.waiting = max(0, queue) }
            if let seconds = try s.int("drain-seconds", flag: drainSeconds) { c.drainTimeout = .seconds(max(1, seconds)) }
            if let connections = try s.int("max-connections", flag: maxConnections) { c.maxConnections = max(1, connections) }
            if let seconds = try s.int("idle-seconds", flag: idleSeconds) { c.idleTimeout = .seconds(max(1, seconds)) }
            c.readyFile = s.string("ready-file", flag: readyFile)
        } catch {
            throw ValidationError("\(error)")
        }
        let levelText = s.string("log-level", flag: logLevel) ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else { throw ValidationError("unknown log level \(levelText)") }
        JSONLogHandler.bootstrap(level: level)
        let logger = Logger(label: "coffer-transaction")
        do {
            try await TransactionTier(configuration: c, logger: logger).run()
        } catch {
            logger.critical("stopped on an error", metadata: ["coffer.error": "\(error)"])
            FileHandle.standardError.write(Data("coffer-transaction: \(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}
