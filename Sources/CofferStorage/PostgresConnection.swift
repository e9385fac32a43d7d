internal import CLibPQ
import CofferAudit
import Foundation

/// A blocking libpq connection to PostgreSQL. Confined to the thread that uses it.
///
/// Parameters and results travel in text format; `bytea` as hex, converted here. Each distinct
/// statement is prepared once per connection and runs with a generic plan afterwards: parsing and
/// planning were a third of the server's time per save.
public final class PostgresConnection: SQLConnection {
    /// How many transactions are open; the inner ones are savepoints.
    private var depth = 0
    /// Prepared statement names by SQL text.
    private var prepared: [String: String] = [:]
    /// Beyond this many distinct statements, new ones run unprepared.
    private static let maxPrepared = 256
    private let conn: OpaquePointer
    public let dialect = SQLDialect.postgres

    /// Connects with a libpq connection string or URL (`postgresql://user@host:port/db`).
    public init(url: String) throws {
        guard let conn = PQconnectdb(url) else {
            throw StorageError(.connection, "cannot allocate a PostgreSQL connection")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(conn)
            throw StorageError(.connection, "cannot connect to PostgreSQL: \(message)")
        }
        self.conn = conn
        try execute("SET client_min_messages TO warning")
        // A process that froze inside a transaction must not stall the others behind its locks.
        try execute("SET lock_timeout TO '3s'")
        // Every statement is a short keyed lookup or insert: plan it once.
        try execute("SET plan_cache_mode TO force_generic_plan")
    }

    deinit {
        PQfinish(conn)
    }

    /// Whether the connection is still usable; libpq does not reconnect by itself.
    public var isHealthy: Bool { PQstatus(conn) == CONNECTION_OK }

    public func execute(_ sql: String) throws {
        let result = PQexec(conn, sql)
        defer { PQclear(result) }
        try check(result)
    }

    public func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow] {
        let texts: [String?] = parameters.map { value in
            switch value {
            case .null: nil
            case .int(let v): String(v)
            case .text(let v): v
            case .blob(let v): "\\x" + AuditLeaf.hex(v)
            }
        }
        // Never empty, so that the buffer has a base address; libpq reads only `texts.count` of them.
        var cStrings: [UnsafeMutablePointer<CChar>?] = texts.isEmpty ? [nil] : texts.map { $0.flatMap { strdup($0) } }
        defer { cStrings.forEach { free($0) } }
        let name = try statementName(for: sql, parameterCount: texts.count)
        let result = cStrings.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { values in
                if let name { PQexecPrepared(conn, name, Int32(texts.count), values, nil, nil, 0) }
                else { PQexecParams(conn, sql, Int32(texts.count), nil, values, nil, nil, 0) }
            }
        }
        defer { PQclear(result) }
        try check(result)
        var rows: [SQLRow] = []
        let columns = PQnfields(result)
        for r in 0..<PQntuples(result) {
            var values: [SQLValue] = []
            for c in 0..<columns {
                if PQgetisnull(result, r, c) != 0 {
                    values.append(.null)
                    continue
                }
                let text = String(cString: PQgetvalue(result, r, c))
                switch PQftype(result, c) {
                case 16: values.append(.int(text == "t" ? 1 : 0))
                case 20, 21, 23:
                    // A number the server sent that does not parse is a damaged answer, never 0.
                    guard let value = Int64(text) else { throw StorageError(.corrupt, "PostgreSQL sent '\(text.prefix(40))' for an integer column") }
                    values.append(.int(value))
                case 17: values.append(.blob(try unhex(text)))
                default: values.append(.text(text))
                }
            }
            rows.append(SQLRow(values: values))
        }
        return rows
    }

    /// The prepared statement for `sql`, preparing it on first use; `nil` once the cache is full.
    private func statementName(for sql: String, parameterCount: Int) throws -> String? {
        if let name = prepared[sql] { return name }
        guard prepared.count < Self.maxPrepared else { return nil }
        let name = "coffer_q\(prepared.count)"
        let result = PQprepare(conn, name, sql, Int32(parameterCount), nil)
        defer { PQclear(result) }
        try check(result)
        prepared[sql] = name
        return name
    }

    /// Runs `body` in a transaction; inside another one, in a savepoint that a failure rolls back alone.
    /// Nothing to do: PostgreSQL keeps old row versions until `VACUUM` (docs/THREAT-MODEL.md).
    public func eraseOverwrittenOnCommit() {}

    private var counts = TransactionCounts()
    public var transactionCounts: TransactionCounts {
        TransactionCounts(begun: counts.begun, rolledBack: counts.rolledBack, open: depth > 0)
    }

    public func transaction<T>(_ body: () throws -> T) throws -> T {
        let savepoint = "coffer_sp\(depth)"
        try execute(depth == 0 ? "BEGIN" : "SAVEPOINT \(savepoint)")
        if depth == 0 { counts.begun += 1 }
        depth += 1
        defer { depth -= 1 }
        do {
            let result = try body()
            // A savepoint that succeeded is left in place rather than released: the commit releases
            // it, and a later savepoint of the same name shadows it. One round trip less per level.
            if depth == 1 { try commit() }
            return result
        } catch {
            counts.rolledBack += 1
            try? execute(depth == 1 ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT \(savepoint); RELEASE SAVEPOINT \(savepoint)")
            throw error
        }
    }

    /// Commits the open transaction, and fails when PostgreSQL rolled it back instead: a transaction
    /// an error aborted answers `COMMIT` with `ROLLBACK`, and nothing of it may be acknowledged.
    private func commit() throws {
        let result = PQexec(conn, "COMMIT")
        defer { PQclear(result) }
        try check(result)
        let tag = String(cString: PQcmdStatus(result))
        guard tag == "COMMIT" else {
            throw StorageError(.query, "PostgreSQL did not commit the transaction (it answered \(tag)): an earlier statement had failed")
        }
    }

    private func check(_ result: OpaquePointer?) throws {
        let status = PQresultStatus(result)
        guard status != PGRES_COMMAND_OK, status != PGRES_TUPLES_OK else { return }
        let message = String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
        if PQstatus(conn) != CONNECTION_OK {
            throw StorageError(.connection, "lost the PostgreSQL connection: \(message)")
        }
        let state = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) } ?? ""
        switch state {
        case let s where s.hasPrefix("23"):
            // Class 23: integrity constraint violation.
            throw StorageError(.constraint, "PostgreSQL: \(message)")
        case "55P03", "40001", "40P01":
            // Lock not available (lock_timeout), serialization failure, deadlock: retryable.
            throw StorageError(.contended, "PostgreSQL: \(message)")
        case "25006", "57P01", "57P02", "57P03":
            // A read-only server (a standby, or a demoted primary) or one shutting down: reconnect,
            // so that target_session_attrs=read-write finds the primary.
            throw StorageError(.connection, "PostgreSQL cannot take writes here: \(message)")
        default:
            throw StorageError(.query, "PostgreSQL: \(message)")
        }
    }

    private func unhex(_ text: String) throws -> [UInt8] {
        let chars = Array(text.utf8)
        guard chars.count >= 2, chars[0] == 92, chars[1] == 120, chars.count % 2 == 0 else {
            throw StorageError(.corrupt, "PostgreSQL returned bytea not in hex format")
        }
        func nibble(_ c: UInt8) throws -> UInt8 {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: throw StorageError(.corrupt, "PostgreSQL returned invalid hex")
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity((chars.count - 2) / 2)
        var i = 2
        while i < chars.count {
            out.append(try nibble(chars[i]) << 4 | nibble(chars[i + 1]))
            i += 2
        }
        return out
    }
}
