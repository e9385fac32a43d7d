import ArgumentParser
import CofferDatabase
import CofferServerSupport
import Foundation
import Logging

/// `coffer-database`: the private tier. Settings: --config FILE, then COFFER_DATABASE_* variables, then flags.
@main
struct DatabaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coffer-database",
        abstract: "The Coffer database tier: the only process that touches the database.",
        discussion: """
            Serves the transaction tier over ZeroMQ with CURVE, admitting only the keys on its allow
            list, and stores to an embedded SQLite file (default) or PostgreSQL (a postgresql:// URL).
            Settings come from --config FILE (key = value lines), then COFFER_DATABASE_<KEY>
            environment variables, then flags. Keys: endpoint, store, curve-secret-key, allow-list,
            health, drain-seconds, batch, log-level. SIGTERM or SIGINT stops it after the request in progress.

            On PostgreSQL, run the schema migrations as the schema's owner and give the tier's own role
            only what it needs (SELECT and INSERT on the audit tables) with:
              coffer-database --store postgresql://OWNER@HOST/DB --migrate-only --grant-to coffer_tier
            then run the tier as coffer_tier.
            """
    )

    @Option(help: "A config file of `key = value` lines.")
    var config: String?

    @Option(help: "The ZeroMQ endpoint to bind (default tcp://127.0.0.1:7701; port * picks one).")
    var endpoint: String?

    @Option(help: "A SQLite file path, or a postgresql:// URL (default coffer.sqlite).")
    var store: String?

    @Option(help: "This tier's CURVE secret key file.")
    var curveSecretKey: String?

    @Option(help: "The file of transaction-tier CURVE public keys admitted.")
    var allowList: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    @Option(help: "A file to write the bound endpoint to once ready.")
    var readyFile: String?

    @Option(help: ArgumentHelp("Answer health probes on HOST:PORT: GET /live and GET /ready (default: none; port 0 picks one, written to the ready file).", valueName: "host:port"))
    var health: String?

    @Option(help: "Seconds SIGTERM waits for the request in progress before exiting anyway (default 10).")
    var drainSeconds: Int?

    @Option(help: "The most waiting requests answered in one transaction with one durable commit (default 32; 1 commits each alone).")
    var batch: Int?

    @Flag(help: "Bring the schema up to date and exit, without serving.")
    var migrateOnly = false

    @Option(help: ArgumentHelp("With --migrate-only on PostgreSQL: the role the tier runs as, granted SELECT and INSERT (only) on the audit tables.", valueName: "role"))
    var grantTo: String?

    func run() throws {
        let settings: SettingsFile
        var configuration = DatabaseTierConfiguration()
        do {
            settings = try SettingsFile(path: config, environmentPrefix: "COFFER_DATABASE")
        } catch {
            throw ValidationError("\(error)")
        }
        configuration.endpoint = settings.string("endpoint", flag: endpoint) ?? configuration.endpoint
        configuration.store = settings.string("store", flag: store) ?? configuration.store
        configuration.curveSecretKeyFile = settings.string("curve-secret-key", flag: curveSecretKey) ?? configuration.curveSecretKeyFile
        configuration.allowListFile = settings.string("allow-list", flag: allowList) ?? configuration.allowListFile
        configuration.healthEndpoint = settings.string("health", flag: health)
        do {
            if let seconds = try settings.int("drain-seconds", flag: drainSeconds) { configuration.drainTimeout = .seconds(max(1, seconds)) }
            if let batch = try settings.int("batch", flag: batch) {
                guard (1...1024).contains(batch) else { throw ValidationError("batch must be 1-1024") }
                configuration.maxBatch = batch
            }
        } catch {
            throw ValidationError("\(error)")
        }
        let levelText = settings.string("log-level", flag: logLevel) ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else { throw ValidationError("unknown log level \(levelText)") }
        JSONLogHandler.bootstrap(level: level)
        let logger = Logger(label: "coffer-database")

        if migrateOnly {
            do {
                let version = try DatabaseTier.migrate(configuration: configuration, grantTo: grantTo)
                print("the schema is at version \(version)" + (grantTo.map { "; granted the tier's rights to \($0)" } ?? ""))
                return
            } catch {
                FileHandle.standardError.write(Data("coffer-database: \(error)\n".utf8))
                throw ExitCode(78)
            }
        }
        guard grantTo == nil else { throw ValidationError("--grant-to goes with --migrate-only") }
        do {
            let tier = try DatabaseTier(configuration: configuration, logger: logger)
            try tier.start()
            var probes: HealthListener?
            if let endpoint = configuration.healthEndpoint {
                guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]) else {
                    throw ValidationError("--health must be HOST:PORT")
                }
                probes = try HealthListener(host: String(endpoint[..<colon]), port: port) { tier.readiness() }
            }
            if let path = settings.string("ready-file", flag: readyFile) {
                // Line 1: the bound endpoint; line 2, with --health: the probe address (port 0 picks one).
                let health = probes.map { "health=127.0.0.1:\($0.port)\n" } ?? ""
                FileManager.default.createFile(atPath: path + ".tmp", contents: Data((tier.boundEndpoint + "\n" + health).utf8))
                rename(path + ".tmp", path)
            }
            ShutdownSignal.wait()
            logger.info("shutting down")
            tier.stop()
            probes?.stop()
        } catch {
            logger.critical("cannot start", metadata: ["coffer.error": "\(error)"])
            FileHandle.standardError.write(Data("coffer-database: \(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}
