public import CofferStorage

/// Settings of one `coffer-database` process, each with its default. Read from a config file, then
/// the environment, then flags (``DatabaseSettings``).
public struct DatabaseTierConfiguration: Sendable {
    /// The ZeroMQ endpoint to bind, for example `tcp://127.0.0.1:7701` (port `*` picks one).
    public var endpoint = "tcp://127.0.0.1:7701"
    /// Where to store: a SQLite file path, or PostgreSQL.
    public var store = StoreLocation("coffer.sqlite")
    /// The file holding this tier's CURVE secret key.
    public var curveSecretKeyFile = "database-curve.secret"
    /// The file listing the CURVE public keys of the transaction processes (and operators) admitted.
    public var allowListFile = "database-allow.list"
    /// Where to answer health probes (`HOST:PORT`, `GET /live` and `GET /ready`); none when `nil`.
    public var healthEndpoint: String?
    /// Where to answer `GET /metrics` in Prometheus' text format (`HOST:PORT`); none when `nil`.
    public var metricsEndpoint: String?
    /// The most waiting requests answered in one transaction with one durable commit (group commit).
    /// 1 commits each request on its own.
    public var maxBatch = 32
    /// How long a SIGTERM may wait for the request in progress before the process exits anyway.
    public var drainTimeout: Duration = .seconds(10)
    /// A file to write the bound endpoint (and the health address) to once ready.
    public var readyFile: String?
    /// Bring the schema up to date and exit, without serving.
    public var migrateOnly = false
    /// With ``migrateOnly`` on PostgreSQL: the role the tier runs as, granted only what it needs.
    public var grantTo: String?
    /// How much each account may keep centrally (docs/PROTOCOL.md, Central copies).
    public var centralQuota = CentralQuota()
    /// The least severe log level written.
    public var logLevel = "info"

    public init() {}
}
