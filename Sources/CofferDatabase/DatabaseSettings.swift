public import CofferServerSupport
import CofferStorage

/// Every setting of `coffer-database`, with its key, meaning and default, read by one
/// ``SettingsReader`` from the config file, the environment and flags.
public enum DatabaseSettings {
    public static let reader = SettingsReader<DatabaseTierConfiguration>(
        command: "coffer-database",
        abstract: """
            the Coffer database tier: the only process that touches the database (docs/DEPLOYMENT.md). It serves the \
            transaction tier over ZeroMQ with CURVE, admitting only the keys on its allow list, and stores to an embedded \
            SQLite file (default) or PostgreSQL. On PostgreSQL, run the migrations as the schema's owner and give the \
            tier's role only what it needs: coffer-database --store postgresql://OWNER@HOST/DB --migrate-only --grant-to coffer_tier
            """,
        environmentPrefix: "COFFER_DATABASE", settings: all
    )

    static let defaults = DatabaseTierConfiguration()

    static let all: [Setting<DatabaseTierConfiguration>] = [
        .text("endpoint", "The ZeroMQ endpoint to bind (default \(defaults.endpoint); port * picks one).") { $0.endpoint = $1 },
        .text("store", "A SQLite file path, or a postgresql:// URL (default \(defaults.store.text)).") { $0.store = StoreLocation($1) },
        .text("curve-secret-key", "This tier's CURVE secret key file (mode 0600).") { $0.curveSecretKeyFile = $1 },
        .text("allow-list", "The file of the CURVE public keys admitted.") { $0.allowListFile = $1 },
        .text("metrics", "Answer GET /metrics (Prometheus) on HOST:PORT, a listener of its own (default none; port 0 picks one, written to the ready file).") {
            $0.metricsEndpoint = $1
        },
        .text("health", "Answer health probes on HOST:PORT: GET /live and GET /ready (default none; port 0 picks one, written to the ready file).") {
            $0.healthEndpoint = $1
        },
        .number("drain-seconds", "Seconds SIGTERM waits for the request in progress before exiting anyway (default \(defaults.drainTimeout.components.seconds)).", in: 1...3_600) {
            $0.drainTimeout = .seconds($1)
        },
        .number("batch", "The most waiting requests answered in one transaction with one durable commit (default \(defaults.maxBatch); 1 commits each alone).", in: 1...1_024) {
            $0.maxBatch = $1
        },
        .number("central-quota-mib", "The most MiB of central copies (encrypted containers kept by this tier) per account (default \(defaults.centralQuota.maxBytes >> 20)).", in: 0...(1 << 30)) {
            $0.centralQuota.maxBytes = Int64($1) << 20
        },
        .number("central-quota-files", "The most central copies per account (default \(defaults.centralQuota.maxCopies); 0 allows none).", in: 0...100_000_000) {
            $0.centralQuota.maxCopies = Int64($1)
        },
        .text("ready-file", "A file to write the bound endpoint to once ready.") { $0.readyFile = $1 },
        .switch("migrate-only", "Bring the schema up to date and exit, without serving.") { $0.migrateOnly = $1 },
        .text("grant-to", "With --migrate-only on PostgreSQL: the role the tier runs as, granted SELECT and INSERT (only) on the audit tables.") {
            $0.grantTo = $1
        },
        .text("log-level", "trace, debug, info, notice, warning, error or critical (default info).") { configuration, level in
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
                throw SettingsError("the setting log-level is one of trace, debug, info, notice, warning, error, critical, not '\(level)'")
            }
            configuration.logLevel = level
        },
    ]
}
