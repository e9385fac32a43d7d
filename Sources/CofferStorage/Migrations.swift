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

    static let all: [Migration] = [
        Migration(
            version: 1,
            sqlite: """
                CREATE TABLE users (
                    name TEXT PRIMARY KEY,
                    password_hash TEXT NOT NULL,
                    created_at_ms INTEGER NOT NULL,
                    locked INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE records (
                    id BLOB PRIMARY KEY,
                    owner TEXT NOT NULL REFERENCES users(name),
                    file_name TEXT NOT NULL,
                    sha256 BLOB NOT NULL,
                    size INTEGER NOT NULL,
                    created_at_ms INTEGER NOT NULL,
                    encode_key_id BLOB NOT NULL,
                    wrapped_decode_key BLOB,
                    receipt BLOB NOT NULL,
                    receipt_signature BLOB NOT NULL
                );
                CREATE INDEX records_owner ON records(owner);
                CREATE TABLE audit_events (
                    idx INTEGER PRIMARY KEY AUTOINCREMENT,
                    at_ms INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    user_name TEXT NOT NULL,
                    record_id BLOB,
                    file_name TEXT,
                    detail TEXT NOT NULL DEFAULT '',
                    source TEXT NOT NULL DEFAULT ''
                );
                CREATE INDEX audit_events_user ON audit_events(user_name, idx);
                CREATE INDEX audit_events_record ON audit_events(record_id, idx);
                """,
            postgres: """
                CREATE TABLE users (
                    name TEXT PRIMARY KEY,
                    password_hash TEXT NOT NULL,
                    created_at_ms BIGINT NOT NULL,
                    locked BOOLEAN NOT NULL DEFAULT FALSE
                );
                CREATE TABLE records (
                    id BYTEA PRIMARY KEY,
                    owner TEXT NOT NULL REFERENCES users(name),
                    file_name TEXT NOT NULL,
                    sha256 BYTEA NOT NULL,
                    size BIGINT NOT NULL,
                    created_at_ms BIGINT NOT NULL,
                    encode_key_id BYTEA NOT NULL,
                    wrapped_decode_key BYTEA,
                    receipt BYTEA NOT NULL,
                    receipt_signature BYTEA NOT NULL
                );
                CREATE INDEX records_owner ON records(owner);
                CREATE TABLE audit_events (
                    idx BIGSERIAL PRIMARY KEY,
                    at_ms BIGINT NOT NULL,
                    kind TEXT NOT NULL,
                    user_name TEXT NOT NULL,
                    record_id BYTEA,
                    file_name TEXT,
                    detail TEXT NOT NULL DEFAULT '',
                    source TEXT NOT NULL DEFAULT ''
                );
                CREATE INDEX audit_events_user ON audit_events(user_name, idx);
                CREATE INDEX audit_events_record ON audit_events(record_id, idx);
                """
        ),
        Migration(
            version: 2,
            sqlite: """
                CREATE TABLE devices (
                    user_name TEXT NOT NULL REFERENCES users(name),
                    client_id TEXT NOT NULL,
                    public_key BLOB NOT NULL,
                    enrolled_at_ms INTEGER NOT NULL,
                    PRIMARY KEY (user_name, client_id)
                );
                CREATE TABLE request_nonces (
                    client_id TEXT NOT NULL,
                    nonce BLOB NOT NULL,
                    time_ms INTEGER NOT NULL,
                    PRIMARY KEY (client_id, nonce)
                );
                CREATE INDEX request_nonces_time ON request_nonces(time_ms);
                ALTER TABLE audit_events ADD COLUMN client_id TEXT NOT NULL DEFAULT '';
                ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE users ADD COLUMN locked_until_ms INTEGER NOT NULL DEFAULT 0;
                """,
            postgres: """
                CREATE TABLE devices (
                    user_name TEXT NOT NULL REFERENCES users(name),
                    client_id TEXT NOT NULL,
                    public_key BYTEA NOT NULL,
                    enrolled_at_ms BIGINT NOT NULL,
                    PRIMARY KEY (user_name, client_id)
                );
                CREATE TABLE request_nonces (
                    client_id TEXT NOT NULL,
                    nonce BYTEA NOT NULL,
                    time_ms BIGINT NOT NULL,
                    PRIMARY KEY (client_id, nonce)
                );
                CREATE INDEX request_nonces_time ON request_nonces(time_ms);
                ALTER TABLE audit_events ADD COLUMN client_id TEXT NOT NULL DEFAULT '';
                ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE users ADD COLUMN locked_until_ms BIGINT NOT NULL DEFAULT 0;
                """
        ),
        Migration(
            version: 3,
            sqlite: """
                ALTER TABLE records ADD COLUMN pending_wrapped_decode_key BLOB;
                ALTER TABLE records ADD COLUMN pending_encode_key_id BLOB;
                ALTER TABLE records ADD COLUMN pending_receipt BLOB;
                ALTER TABLE records ADD COLUMN pending_receipt_signature BLOB;
                ALTER TABLE records ADD COLUMN resealed_at_ms INTEGER NOT NULL DEFAULT 0;
                CREATE TABLE retired_receipts (
                    record_id BLOB NOT NULL,
                    receipt_signature BLOB NOT NULL,
                    retired_at_ms INTEGER NOT NULL
                );
                CREATE INDEX retired_receipts_record ON retired_receipts(record_id);
                """,
            postgres: """
                ALTER TABLE records ADD COLUMN pending_wrapped_decode_key BYTEA;
                ALTER TABLE records ADD COLUMN pending_encode_key_id BYTEA;
                ALTER TABLE records ADD COLUMN pending_receipt BYTEA;
                ALTER TABLE records ADD COLUMN pending_receipt_signature BYTEA;
                ALTER TABLE records ADD COLUMN resealed_at_ms BIGINT NOT NULL DEFAULT 0;
                CREATE TABLE retired_receipts (
                    record_id BYTEA NOT NULL,
                    receipt_signature BYTEA NOT NULL,
                    retired_at_ms BIGINT NOT NULL
                );
                CREATE INDEX retired_receipts_record ON retired_receipts(record_id);
                """
        ),
        Migration(
            version: 4,
            sqlite: """
                CREATE TABLE audit_log (
                    idx INTEGER PRIMARY KEY,
                    at_ms INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    user_name TEXT NOT NULL,
                    record_id BLOB,
                    file_name TEXT,
                    detail TEXT NOT NULL,
                    source TEXT NOT NULL,
                    client_id TEXT NOT NULL,
                    leaf BLOB NOT NULL
                );
                CREATE INDEX audit_log_user ON audit_log(user_name, idx);
                CREATE INDEX audit_log_record ON audit_log(record_id, idx);
                CREATE TABLE audit_tree (
                    level INTEGER NOT NULL,
                    idx INTEGER NOT NULL,
                    hash BLOB NOT NULL,
                    PRIMARY KEY (level, idx)
                );
                CREATE TABLE audit_checkpoints (
                    tree_size INTEGER PRIMARY KEY,
                    root BLOB NOT NULL,
                    note TEXT NOT NULL,
                    stored_at_ms INTEGER NOT NULL
                );
                \(appendOnlySQLite("audit_log"))
                \(appendOnlySQLite("audit_tree"))
                \(appendOnlySQLite("audit_checkpoints"))
                """,
            postgres: """
                CREATE TABLE audit_log (
                    idx BIGINT PRIMARY KEY,
                    at_ms BIGINT NOT NULL,
                    kind TEXT NOT NULL,
                    user_name TEXT NOT NULL,
                    record_id BYTEA,
                    file_name TEXT,
                    detail TEXT NOT NULL,
                    source TEXT NOT NULL,
                    client_id TEXT NOT NULL,
                    leaf BYTEA NOT NULL
                );
                CREATE INDEX audit_log_user ON audit_log(user_name, idx);
                CREATE INDEX audit_log_record ON audit_log(record_id, idx);
                CREATE TABLE audit_tree (
                    level INTEGER NOT NULL,
                    idx BIGINT NOT NULL,
                    hash BYTEA NOT NULL,
                    PRIMARY KEY (level, idx)
                );
                CREATE TABLE audit_checkpoints (
                    tree_size BIGINT PRIMARY KEY,
                    root BYTEA NOT NULL,
                    note TEXT NOT NULL,
                    stored_at_ms BIGINT NOT NULL
                );
                CREATE FUNCTION coffer_refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'the audit history is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
                END
                $$;
                \(appendOnlyPostgres("audit_log"))
                \(appendOnlyPostgres("audit_tree"))
                \(appendOnlyPostgres("audit_checkpoints"))
                """,
            backfill: { db in
                // Moves the history of schema 3 into the log, in its order, then drops the old table.
                let rows = try db.query("SELECT at_ms, kind, user_name, record_id, file_name, detail, source, client_id FROM audit_events ORDER BY idx", [])
                let log = AuditLog(db)
                for row in rows {
                    try log.append(AuditEvent(
                        kind: try row.text(1), user: try row.text(2), recordID: try row.optionalBlob(3), fileName: try row.optionalText(4),
                        timeMs: try row.int(0), detail: try row.text(5), source: try row.text(6), clientID: try row.text(7)
                    ))
                }
                try db.execute("DROP TABLE audit_events")
            }
        ),
        Migration(
            version: 5,
            sqlite: """
                CREATE TABLE request_replies (
                    request_id BLOB PRIMARY KEY,
                    reply BLOB NOT NULL,
                    record_id BLOB,
                    at_ms INTEGER NOT NULL
                );
                CREATE INDEX request_replies_time ON request_replies(at_ms);
                CREATE INDEX request_replies_record ON request_replies(record_id);
                ALTER TABLE request_nonces ADD COLUMN request_id BLOB;
                """,
            postgres: """
                CREATE TABLE request_replies (
                    request_id BYTEA PRIMARY KEY,
                    reply BYTEA NOT NULL,
                    record_id BYTEA,
                    at_ms BIGINT NOT NULL
                );
                CREATE INDEX request_replies_time ON request_replies(at_ms);
                CREATE INDEX request_replies_record ON request_replies(record_id);
                ALTER TABLE request_nonces ADD COLUMN request_id BYTEA;
                """
        ),
        Migration(
            version: 6,
            // Sessions of a device issued at or before this time (Unix ms) were ended by a logout or a password change.
            sqlite: "ALTER TABLE devices ADD COLUMN sessions_ended_ms INTEGER NOT NULL DEFAULT 0;",
            postgres: "ALTER TABLE devices ADD COLUMN sessions_ended_ms BIGINT NOT NULL DEFAULT 0;"
        ),
        Migration(
            version: 7,
            // A save's own id, chosen by the client, and its encode key: the same save sent again
            // after a lost answer finds the record the first one made (NULLs do not collide).
            sqlite: """
                ALTER TABLE records ADD COLUMN client_request_id BLOB;
                ALTER TABLE records ADD COLUMN encode_key BLOB;
                CREATE UNIQUE INDEX records_client_request ON records(owner, client_request_id);
                """,
            postgres: """
                ALTER TABLE records ADD COLUMN client_request_id BYTEA;
                ALTER TABLE records ADD COLUMN encode_key BYTEA;
                CREATE UNIQUE INDEX records_client_request ON records(owner, client_request_id);
                """
        ),
    ]

    /// Triggers that refuse UPDATE and DELETE on an audit table of SQLite.
    private static func appendOnlySQLite(_ table: String) -> String {
        """
        CREATE TRIGGER \(table)_no_update BEFORE UPDATE ON \(table) BEGIN SELECT RAISE(ABORT, 'the audit history is append-only: UPDATE on \(table) refused'); END;
        CREATE TRIGGER \(table)_no_delete BEFORE DELETE ON \(table) BEGIN SELECT RAISE(ABORT, 'the audit history is append-only: DELETE on \(table) refused'); END;
        """
    }

    /// Triggers that refuse UPDATE, DELETE and TRUNCATE on an audit table of PostgreSQL, and the
    /// revocation of those rights from every role but the owner.
    private static func appendOnlyPostgres(_ table: String) -> String {
        """
        CREATE TRIGGER \(table)_append_only BEFORE UPDATE OR DELETE ON \(table) FOR EACH ROW EXECUTE FUNCTION coffer_refuse_audit_change();
        CREATE TRIGGER \(table)_no_truncate BEFORE TRUNCATE ON \(table) FOR EACH STATEMENT EXECUTE FUNCTION coffer_refuse_audit_change();
        REVOKE UPDATE, DELETE, TRUNCATE ON \(table) FROM PUBLIC;
        """
    }

    /// The tables whose rows the tier may change, and the audit tables it may only append to.
    static let mutableTables = ["users", "records", "devices", "request_nonces", "retired_receipts", "request_replies"]
    static let auditTables = ["audit_log", "audit_tree", "audit_checkpoints"]

    /// Gives `role` what a database tier needs and no more: SELECT and INSERT on the audit tables,
    /// SELECT, INSERT, UPDATE and DELETE on the others. Run as the schema's owner, after ``run(on:)``.
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
