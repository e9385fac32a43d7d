/// Settings of one `coffer-database` process.
public struct DatabaseTierConfiguration: Sendable {
    /// The ZeroMQ endpoint to bind, for example `tcp://127.0.0.1:7701`.
    public var endpoint: String = "tcp://127.0.0.1:7701"
    /// Where to store: a SQLite file path, or a `postgresql://` URL (any libpq connection string).
    public var store: String = "coffer.sqlite"
    /// The file holding this tier's CURVE secret key.
    public var curveSecretKeyFile: String = "database-curve.secret"
    /// The file listing the CURVE public keys of the transaction processes admitted.
    public var allowListFile: String = "database-allow.list"

    /// Where to answer health probes (`HOST:PORT`, `GET /live` and `GET /ready`); none when `nil`.
    public var healthEndpoint: String?
    /// The most waiting requests answered in one transaction with one durable commit (group commit).
    /// 1 commits each request on its own.
    public var maxBatch: Int = 32
    /// How long a SIGTERM may wait for the request in progress before the process exits anyway.
    public var drainTimeout: Duration = .seconds(10)

    public init() {}

    /// Whether ``store`` names PostgreSQL rather than a SQLite file.
    public var usesPostgres: Bool {
        store.hasPrefix("postgresql://") || store.hasPrefix("postgres://") || store.contains("host=") || store.contains("dbname=")
    }
}
