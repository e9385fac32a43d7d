import Foundation

/// Where the database tier stores: a SQLite file path, or PostgreSQL (a `postgresql://` URL, or any
/// libpq connection string). Opening a store is written here, once.
public struct StoreLocation: Sendable, Hashable, CustomStringConvertible {
    /// The path or the connection string, as configured.
    public let text: String

    public init(_ text: String) { self.text = text }

    /// Whether it names PostgreSQL rather than a SQLite file.
    public var isPostgres: Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") || text.contains("host=") || text.contains("dbname=")
    }

    /// `sqlite` or `postgresql`.
    public var kind: String { isPostgres ? "postgresql" : "sqlite" }

    /// A new connection (SQLite creates the file, mode 0600).
    public func connect() throws -> any SQLConnection {
        isPostgres ? try PostgresConnection(url: text) : try SQLiteConnection(path: text)
    }

    /// A store over a new connection, its schema brought up to date.
    ///
    /// `COFFER_DATABASE_ONE_CALL_SAVES=0` in the environment sends every save down the general path
    /// (``RecordStore/oneCallSaves``): a switch for measuring one path against the other
    /// (docs/PERFORMANCE.md), not a setting.
    ///
    /// Central copies go to ``centralFolder`` beside a SQLite file, and into the database on PostgreSQL.
    public func open(quota: CentralQuota = CentralQuota()) throws -> RecordStore {
        let connection = try connect()
        let blobs: (any BlobStore)? = try centralFolder.map { try FolderBlobStore(folder: $0) }
        let store = try RecordStore(connection: connection, blobs: blobs)
        store.oneCallSaves = ProcessInfo.processInfo.environment["COFFER_DATABASE_ONE_CALL_SAVES"] != "0"
        store.centralQuota = quota
        return store
    }

    /// The folder of central copies beside a SQLite file (`FILE.central`); `nil` on PostgreSQL,
    /// which keeps them in the database.
    public var centralFolder: String? {
        isPostgres || text == ":memory:" ? nil : text + ".central"
    }

    /// The kind only: a connection string may carry a password.
    public var description: String { kind }
}
