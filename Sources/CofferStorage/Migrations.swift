/// The versioned schema. Each migration runs once, in order, in its own transaction.
///
/// Never edit a released migration; add a new one.
public enum Migrations {
    struct Migration: Sendable {
        let version: Int
        let sqlite: String
        let postgres: String
        /// Runs after the SQL, in the same transaction: moves data the SQL cannot.
        var backfill: (@Sendable (any SQLConnection) throws -> Void)? = nil
    }

    /// The schema version this build expects.
    public static var latestVersion: Int { all.last!.version }

    // The steps are in Migrations+Steps.swift.

    /// Triggers that refuse UPDATE and DELETE on an audit table of SQLite.
    static func appendOnlySQLite(_ table: String) -> String {
        """
        CREATE TRIGGER \(table)_no_update BEFORE UPDATE ON \(table) BEGIN SELECT RAISE(ABORT, 'the audit history is append-only: UPDATE on \(table) refused'); END;
        CREATE TRIGGER \(table)_no_delete BEFORE DELETE ON \(table) BEGIN SELECT RAISE(ABORT, 'the audit history is append-only: DELETE on \(table) refused'); END;
        """
    }

    /// Triggers that refuse UPDATE, DELETE and TRUNCATE on an audit table of PostgreSQL, and the
    /// revocation of those rights from every role but the owner.
    static func appendOnlyPostgres(_ table: String) -> String {
        """
        CREATE TRIGGER \(table)_append_only BEFORE UPDATE OR DELETE ON \(table) FOR EACH ROW EXECUTE FUNCTION coffer_refuse_audit_change();
        CREATE TRIGGER \(table)_no_truncate BEFORE TRUNCATE ON \(table) FOR EACH STATEMENT EXECUTE FUNCTION coffer_refuse_audit_change();
        REVOKE UPDATE, DELETE, TRUNCATE ON \(table) FROM PUBLIC;
        """
    }

    /// The tables whose rows the tier may change, and the audit tables it may only append to.
    static let mutableTables = ["users", "records", "devices", "request_nonces", "retired_receipts", "request_replies",
                                "central_copies", "central_uploads", "blob_chunks", "grants"]
    static let auditTables = ["audit_log", "audit_tree", "audit_checkpoints"]

    /// Gives `role` what a database tier needs and no more: SELECT and INSERT on the audit tables,
    /// SELECT, INSERT, UPDATE and DELETE on the others, and EXECUTE on the schema's functions (the
    /// one-call save runs with its caller's rights, so this grants nothing the tables do not), so
    /// that a database whose PUBLIC lost EXECUTE still serves saves. Run as the schema's owner, after ``run(on:)``.
    public static func grantTierRights(to role: String, on db: any SQLConnection) throws {
        guard db.dialect == .postgres else { return }
        guard !role.isEmpty, role.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw StorageError(.migration, "the role name \"\(role)\" must be letters, digits and underscores")
        }
        try db.transaction {
            try db.execute("""
                GRANT USAGE ON SCHEMA public TO \(role);
                GRANT SELECT ON schema_migrations TO \(role);
                GRANT SELECT, INSERT ON \(auditTables.joined(separator: ", ")) TO \(role);
                REVOKE UPDATE, DELETE, TRUNCATE ON \(auditTables.joined(separator: ", ")) FROM \(role);
                GRANT SELECT, INSERT, UPDATE, DELETE ON \(mutableTables.joined(separator: ", ")) TO \(role);
                GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO \(role);
                """)
        }
    }

    /// Brings the schema up to ``latestVersion`` (or `target`, for tests of an upgrade); safe when
    /// several processes start at once.
    ///
    /// - Returns: The schema version now in force.
    /// - Throws: `.migration` when the database is newer than this build.
    @discardableResult
    public static func run(on db: any SQLConnection, upTo target: Int = latestVersion) throws -> Int {
        if let current = try currentVersion(db), current == target {
            // Nothing to do: a tier whose role may not create tables starts fine.
            return current
        }
        let integer = db.dialect == .sqlite ? "INTEGER" : "BIGINT"
        try db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version \(integer) PRIMARY KEY, applied_at_ms \(integer) NOT NULL)")
        return try db.transaction {
            if db.dialect == .postgres {
                // Serializes concurrent start-ups; released at commit.
                try db.query("SELECT pg_advisory_xact_lock(2024112701)", [])
            }
            let current = try db.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", []).first?.int(0) ?? 0
            guard current <= latestVersion else {
                throw StorageError(.migration, "the database has schema version \(current) but this coffer-database knows only up to \(latestVersion); upgrade coffer-database")
            }
            for migration in all where migration.version > current && migration.version <= target {
                do {
                    try db.execute(db.dialect == .sqlite ? migration.sqlite : migration.postgres)
                    try migration.backfill?(db)
                } catch {
                    throw StorageError(.migration, "schema migration \(migration.version) failed: \(error)")
                }
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                try db.query("INSERT INTO schema_migrations (version, applied_at_ms) VALUES ($1, $2)", [.int(Int64(migration.version)), .int(now)])
            }
            return max(Int(current), target)
        }
    }

    /// The schema version in force, or `nil` when the database has no schema yet.
    static func currentVersion(_ db: any SQLConnection) throws -> Int? {
        let exists = db.dialect == .sqlite
            ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
            : "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'"
        guard try db.query(exists, []).first?.int(0) == 1 else { return nil }
        return Int(try db.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", []).first?.int(0) ?? 0)
    }
}

import Foundation
