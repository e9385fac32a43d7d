/// The versioned schema. Each migration runs once, in order, in its own transaction.
///
/// Never edit a released migration; add a new one.
public enum Migrations {
    struct Migration {
        let version: Int
        let sqlite: String
        let postgres: String
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
    ]

    /// Brings the schema up to ``latestVersion``; safe when several processes start at once.
    ///
    /// - Returns: The schema version now in force.
    /// - Throws: `.migration` when the database is newer than this build.
    @discardableResult
    public static func run(on db: any SQLConnection) throws -> Int {
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
            for migration in all where migration.version > current {
                do {
                    try db.execute(db.dialect == .sqlite ? migration.sqlite : migration.postgres)
                } catch {
                    throw StorageError(.migration, "schema migration \(migration.version) failed: \(error)")
                }
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                try db.query("INSERT INTO schema_migrations (version, applied_at_ms) VALUES ($1, $2)", [.int(Int64(migration.version)), .int(now)])
            }
            return latestVersion
        }
    }
}

import Foundation
