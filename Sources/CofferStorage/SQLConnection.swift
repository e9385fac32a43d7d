/// A value bound to or read from a statement.
public enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case text(String)
    case blob([UInt8])
}

/// One result row.
public struct SQLRow: Sendable {
    public let values: [SQLValue]

    public func int(_ i: Int) throws -> Int64 {
        guard case .int(let v) = values[i] else { throw StorageError(.corrupt, "column \(i) is not an integer") }
        return v
    }

    public func text(_ i: Int) throws -> String {
        guard case .text(let v) = values[i] else { throw StorageError(.corrupt, "column \(i) is not text") }
        return v
    }

    public func blob(_ i: Int) throws -> [UInt8] {
        guard case .blob(let v) = values[i] else { throw StorageError(.corrupt, "column \(i) is not a blob") }
        return v
    }

    public func optionalBlob(_ i: Int) throws -> [UInt8]? {
        if case .null = values[i] { return nil }
        return try blob(i)
    }

    public func optionalInt(_ i: Int) throws -> Int64? {
        if case .null = values[i] { return nil }
        return try int(i)
    }

    public func optionalText(_ i: Int) throws -> String? {
        if case .null = values[i] { return nil }
        return try text(i)
    }
}

/// How many transactions a connection has begun and how many it has rolled back, savepoints
/// included: what the store remembers of the audit log between statements holds only while no
/// rollback undid part of it (``AuditFrontier``).
public struct TransactionCounts: Sendable, Equatable {
    public var begun = 0
    public var rolledBack = 0
    /// Whether a transaction is open now.
    public var open = false

    public init(begun: Int = 0, rolledBack: Int = 0, open: Bool = false) {
        self.begun = begun
        self.rolledBack = rolledBack
        self.open = open
    }
}

/// The SQL dialects the store speaks.
public enum SQLDialect: Sendable {
    case sqlite, postgres
}

/// A blocking connection to one database. Confined to the thread that uses it.
///
/// Statements use `$1`, `$2`, … placeholders in both dialects.
public protocol SQLConnection: AnyObject {
    /// Which SQL dialect the connection speaks.
    var dialect: SQLDialect { get }
    /// Runs one statement and returns its rows.
    @discardableResult
    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow]
    /// Runs statements with no parameters (may hold several, separated by `;`).
    func execute(_ sql: String) throws
    /// Runs `body` in a transaction that commits durably before this returns.
    func transaction<T>(_ body: () throws -> T) throws -> T
    /// The transactions begun and rolled back on this connection so far.
    var transactionCounts: TransactionCounts { get }
    /// Asks that, when the current transaction commits, the bytes it overwrote or deleted (a
    /// destroyed key) leave the database's files before the commit returns, where the store can
    /// do that: SQLite copies its write-ahead log into the main file, which `secure_delete` keeps
    /// clean, and truncates the log. PostgreSQL cannot: old row versions stay until `VACUUM`.
    func eraseOverwrittenOnCommit()
}
