internal import CSQLite
import Foundation

/// A connection to an embedded SQLite file, in WAL mode with full fsync on commit.
///
/// Each distinct statement is compiled once and kept (reset after each use).
public final class SQLiteConnection: SQLConnection {
    /// How many transactions are open; the inner ones are savepoints.
    private var depth = 0
    /// Whether the write-ahead log must be checkpointed and truncated after the next commit.
    private var eraseAfterCommit = false
    /// Compiled statements by SQL text.
    private var prepared: [String: OpaquePointer] = [:]
    /// Beyond this many distinct statements, new ones are compiled for one use.
    private static let maxPrepared = 256
    private var db: OpaquePointer?
    public let dialect = SQLDialect.sqlite

    /// Opens (creating if needed) the file at `path` with mode 0600; with `readOnly`, opens an
    /// existing file for reading only.
    public init(path: String, readOnly: Bool = false) throws {
        let existed = FileManager.default.fileExists(atPath: path)
        var handle: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw StorageError(.connection, "cannot open the SQLite file \(path): \(message)")
        }
        db = handle
        if !existed { chmod(path, 0o600) }
        sqlite3_busy_timeout(handle, 5_000)
        if readOnly { return }
        try execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;")
    }

    /// Copies the database at `source` into a new file at `target` with SQLite's online backup API,
    /// in one step: one read transaction, so the copy is consistent while others keep writing.
    static func backUp(from source: String, to target: String) throws {
        let from = try SQLiteConnection(path: source, readOnly: true)
        let to = try SQLiteConnection(path: target)
        guard let backup = sqlite3_backup_init(to.db, "main", from.db, "main") else {
            throw StorageError(.backup, "cannot begin the SQLite backup: \(String(cString: sqlite3_errmsg(to.db)))")
        }
        var rc: Int32
        repeat {
            rc = sqlite3_backup_step(backup, -1)
            if rc == SQLITE_BUSY || rc == SQLITE_LOCKED { usleep(50_000) }
        } while rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED
        let finished = sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE, finished == SQLITE_OK else {
            throw StorageError(.backup, "the SQLite backup of \(source) failed: \(String(cString: sqlite3_errstr(rc == SQLITE_DONE ? finished : rc)))")
        }
        // The copy is a plain file: fold its write-ahead log in, so it is one file.
        try to.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    /// Closes the connection now; it must not be used afterwards.
    func close() throws {
        for statement in prepared.values { sqlite3_finalize(statement) }
        prepared = [:]
        guard sqlite3_close(db) == SQLITE_OK else { throw StorageError(.connection, "cannot close the SQLite file: \(String(cString: sqlite3_errmsg(db)))") }
        db = nil
    }

    deinit {
        for statement in prepared.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(db)
    }

    public func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &error)
        guard rc == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(error)
            throw StorageError(rc & 0xFF == SQLITE_BUSY || rc & 0xFF == SQLITE_LOCKED ? .contended : .query, "SQLite: \(message)")
        }
    }

    public func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow] {
        let (statement, kept) = try compiled(sql)
        defer {
            if kept {
                sqlite3_reset(statement)
                sqlite3_clear_bindings(statement)
            } else {
                sqlite3_finalize(statement)
            }
        }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (i, value) in parameters.enumerated() {
            let index = Int32(i + 1)
            switch value {
            case .null: sqlite3_bind_null(statement, index)
            case .int(let v): sqlite3_bind_int64(statement, index, v)
            case .text(let v): sqlite3_bind_text(statement, index, v, -1, transient)
            case .blob(let v):
                v.withUnsafeBytes { _ = sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), transient) }
            }
        }
        var rows: [SQLRow] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                let message = String(cString: sqlite3_errmsg(db))
                let code: StorageError.Code = switch rc & 0xFF {
                case SQLITE_CONSTRAINT: .constraint
                case SQLITE_BUSY, SQLITE_LOCKED: .contended
                default: .query
                }
                throw StorageError(code, "SQLite: \(message)")
            }
            var values: [SQLValue] = []
            for c in 0..<sqlite3_column_count(statement) {
                switch sqlite3_column_type(statement, c) {
                case SQLITE_INTEGER: values.append(.int(sqlite3_column_int64(statement, c)))
                case SQLITE_TEXT: values.append(.text(String(cString: sqlite3_column_text(statement, c))))
                case SQLITE_BLOB:
                    let count = Int(sqlite3_column_bytes(statement, c))
                    if let p = sqlite3_column_blob(statement, c) {
                        values.append(.blob(Array(UnsafeRawBufferPointer(start: p, count: count))))
                    } else {
                        values.append(.blob([]))
                    }
                case SQLITE_NULL: values.append(.null)
                default: values.append(.text(String(cString: sqlite3_column_text(statement, c))))
                }
            }
            rows.append(SQLRow(values: values))
        }
        return rows
    }

    /// The compiled statement for `sql` (`$n` placeholders become `?n`), and whether it is kept.
    private func compiled(_ sql: String) throws -> (OpaquePointer?, kept: Bool) {
        if let statement = prepared[sql] { return (statement, true) }
        var statement: OpaquePointer?
        let translated = String(decoding: sql.utf8.map { $0 == UInt8(ascii: "$") ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
        guard sqlite3_prepare_v2(db, translated, -1, &statement, nil) == SQLITE_OK else {
            sqlite3_finalize(statement)
            throw StorageError(.query, "SQLite: \(String(cString: sqlite3_errmsg(db)))")
        }
        guard prepared.count < Self.maxPrepared else { return (statement, false) }
        prepared[sql] = statement
        return (statement, true)
    }

    /// Runs `body` in a transaction; inside another one, in a savepoint that a failure rolls back alone.
    private var counts = TransactionCounts()
    public var transactionCounts: TransactionCounts {
        TransactionCounts(begun: counts.begun, rolledBack: counts.rolledBack, open: depth > 0)
    }

    public func transaction<T>(_ body: () throws -> T) throws -> T {
        let savepoint = "coffer_sp\(depth)"
        try execute(depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT \(savepoint)")
        if depth == 0 { counts.begun += 1 }
        depth += 1
        defer { depth -= 1 }
        do {
            let result = try body()
            try execute(depth == 1 ? "COMMIT" : "RELEASE SAVEPOINT \(savepoint)")
            if depth == 1 && eraseAfterCommit { try eraseWriteAheadLog() }
            return result
        } catch {
            counts.rolledBack += 1
            try? execute(depth == 1 ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT \(savepoint); RELEASE SAVEPOINT \(savepoint)")
            if depth == 1 { eraseAfterCommit = false }
            throw error
        }
    }

    public func eraseOverwrittenOnCommit() {
        eraseAfterCommit = true
    }

    /// Copies every frame of the write-ahead log into the main file and truncates the log: the old
    /// page images a commit replaced (a destroyed key among them) live on in the log's earlier
    /// frames, and in the main file until the new page is copied over them; with `secure_delete`,
    /// nothing of them is left in either file afterwards.
    ///
    /// Another connection reading an older snapshot holds the checkpoint up to the busy timeout; if
    /// it is still busy then, the next commit tries again.
    private func eraseWriteAheadLog() throws {
        let rows = try query("PRAGMA wal_checkpoint(TRUNCATE)", [])
        let busy = (try? rows.first?.int(0)) ?? 1
        eraseAfterCommit = busy != 0
    }
}
