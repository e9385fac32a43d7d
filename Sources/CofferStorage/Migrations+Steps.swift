extension Migrations {
    /// Every schema version, in order; each runs once, in its own transaction. Add a version at the
    /// end, never change one that shipped.
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
        Migration(
            version: 8,
            // PostgreSQL only: a save in one call (RecordStore+OneCallSave.swift), and the large
            // values compressed with LZ4 rather than pglz where the server has it.
            sqlite: "SELECT 1;",
            postgres: OneCallSaveFunction.sql
        ),
        Migration(
            version: 9,
            // Central copies (docs/PROTOCOL.md, Central copies): which blob is a record's current
            // copy, uploads in progress, and, where the store keeps the bytes in the database
            // (PostgreSQL), the blobs' chunks — so that streaming replication carries them with the
            // records. Blobs never sit in the key rows.
            sqlite: """
                CREATE TABLE central_copies (
                    record_id BLOB PRIMARY KEY REFERENCES records(id),
                    owner TEXT NOT NULL,
                    blob_id TEXT NOT NULL,
                    sha256 BLOB NOT NULL,
                    size INTEGER NOT NULL,
                    generation INTEGER NOT NULL,
                    receipt_signature BLOB NOT NULL,
                    updated_at_ms INTEGER NOT NULL
                );
                CREATE INDEX central_copies_owner ON central_copies(owner);
                CREATE TABLE central_uploads (
                    upload_id TEXT PRIMARY KEY,
                    record_id BLOB NOT NULL,
                    owner TEXT NOT NULL,
                    sha256 BLOB NOT NULL,
                    size INTEGER NOT NULL,
                    receipt_signature BLOB NOT NULL,
                    started_at_ms INTEGER NOT NULL,
                    UNIQUE (record_id, sha256, size)
                );
                CREATE TABLE blob_chunks (
                    blob_id TEXT NOT NULL,
                    at_offset INTEGER NOT NULL,
                    data BLOB NOT NULL,
                    PRIMARY KEY (blob_id, at_offset)
                );
                """,
            postgres: """
                CREATE TABLE central_copies (
                    record_id BYTEA PRIMARY KEY REFERENCES records(id),
                    owner TEXT NOT NULL,
                    blob_id TEXT NOT NULL,
                    sha256 BYTEA NOT NULL,
                    size BIGINT NOT NULL,
                    generation BIGINT NOT NULL,
                    receipt_signature BYTEA NOT NULL,
                    updated_at_ms BIGINT NOT NULL
                );
                CREATE INDEX central_copies_owner ON central_copies(owner);
                CREATE TABLE central_uploads (
                    upload_id TEXT PRIMARY KEY,
                    record_id BYTEA NOT NULL,
                    owner TEXT NOT NULL,
                    sha256 BYTEA NOT NULL,
                    size BIGINT NOT NULL,
                    receipt_signature BYTEA NOT NULL,
                    started_at_ms BIGINT NOT NULL,
                    UNIQUE (record_id, sha256, size)
                );
                CREATE TABLE blob_chunks (
                    blob_id TEXT NOT NULL,
                    at_offset BIGINT NOT NULL,
                    data BYTEA NOT NULL,
                    PRIMARY KEY (blob_id, at_offset)
                );
                ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
                """
        ),
        Migration(
            version: 10,
            // Sharing (docs/PROTOCOL.md, Sharing): who may retrieve a record besides its owner, and
            // until when. A revoked or expired grant stays, so that the owner's history keeps
            // showing what was done under it.
            sqlite: """
                CREATE TABLE grants (
                    record_id BLOB NOT NULL REFERENCES records(id),
                    grantee TEXT NOT NULL,
                    owner TEXT NOT NULL,
                    granted_at_ms INTEGER NOT NULL,
                    expires_at_ms INTEGER,
                    revoked_at_ms INTEGER,
                    PRIMARY KEY (record_id, grantee)
                );
                CREATE INDEX grants_grantee ON grants(grantee);
                CREATE INDEX grants_owner ON grants(owner);
                """,
            postgres: """
                CREATE TABLE grants (
                    record_id BYTEA NOT NULL REFERENCES records(id),
                    grantee TEXT NOT NULL,
                    owner TEXT NOT NULL,
                    granted_at_ms BIGINT NOT NULL,
                    expires_at_ms BIGINT,
                    revoked_at_ms BIGINT,
                    PRIMARY KEY (record_id, grantee)
                );
                CREATE INDEX grants_grantee ON grants(grantee);
                CREATE INDEX grants_owner ON grants(owner);
                """
        ),
        Migration(
            version: 11,
            // Restores (docs/AUDIT.md, Restores): every checkpoint names the log's `restore` entries,
            // found through a partial index that holds only them.
            sqlite: "CREATE INDEX audit_log_restores ON audit_log(idx) WHERE kind = 'restore';",
            postgres: "CREATE INDEX audit_log_restores ON audit_log(idx) WHERE kind = 'restore';"
        ),
    ]
}
