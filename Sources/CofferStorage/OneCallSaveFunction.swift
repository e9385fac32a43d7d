/// The PostgreSQL function behind ``RecordStore/saveInOneCall(_:reply:)``, created by schema
/// migration 8.
///
/// It makes a save only in its plain case — a new request id, a fresh nonce of a session not
/// ended, an existing owner no operator locked, a free record id and client request id — and
/// then writes, in this order, what the general path writes in nine statements: the request's
/// claim with its final reply, the nonce, the record, its `save` entry and the entry's subtree
/// hashes. In any other case, and on any error inside it (a concurrent claim of the same id among
/// them), it writes nothing and returns false, and the database tier answers the request by the
/// general path, which knows every refusal. It never raises: a raised error would abort the
/// batch's whole transaction.
///
/// The leaf bytes and subtree hashes are computed by the database tier from the index it knows
/// under the append lock; the hashes arrive concatenated, level 0 (the leaf) first, and leaf
/// `idx` closes the subtree `(level, idx >> level)` at each level. The function runs with its
/// caller's rights (SECURITY INVOKER), so it can do nothing the database tier's role cannot.
enum OneCallSaveFunction {
    static let sql = """
        CREATE FUNCTION coffer_save_v1(
            p_request_id bytea, p_now_ms bigint,
            p_client_id text, p_nonce bytea, p_nonce_time_ms bigint, p_nonce_forget_before_ms bigint,
            p_session_user text, p_session_issued_ms bigint,
            p_id bytea, p_owner text, p_file_name text, p_sha256 bytea, p_size bigint, p_created_at_ms bigint,
            p_encode_key_id bytea, p_wrapped_decode_key bytea, p_receipt bytea, p_receipt_signature bytea,
            p_client_request_id bytea, p_encode_key bytea,
            p_audit_idx bigint, p_source text, p_audit_client_id text, p_leaf bytea, p_node_hashes bytea,
            p_reply bytea
        ) RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM request_replies WHERE request_id = p_request_id) THEN RETURN false; END IF;
            IF p_client_id IS NOT NULL THEN
                IF EXISTS (SELECT 1 FROM request_nonces
                           WHERE client_id = p_client_id AND nonce = p_nonce AND time_ms >= p_nonce_forget_before_ms) THEN
                    RETURN false;
                END IF;
                IF EXISTS (SELECT 1 FROM devices WHERE user_name = p_session_user AND client_id = p_client_id
                           AND sessions_ended_ms >= p_session_issued_ms) THEN
                    RETURN false;
                END IF;
            END IF;
            IF NOT EXISTS (SELECT 1 FROM users WHERE name = p_owner AND NOT locked) THEN RETURN false; END IF;
            IF EXISTS (SELECT 1 FROM records WHERE id = p_id) THEN RETURN false; END IF;
            IF p_client_request_id IS NOT NULL
               AND EXISTS (SELECT 1 FROM records WHERE owner = p_owner AND client_request_id = p_client_request_id) THEN
                RETURN false;
            END IF;
            IF length(p_node_hashes) = 0 OR length(p_node_hashes) % 32 <> 0 THEN RETURN false; END IF;
            BEGIN
                INSERT INTO request_replies (request_id, reply, record_id, at_ms) VALUES (p_request_id, p_reply, NULL, p_now_ms);
                IF p_client_id IS NOT NULL THEN
                    INSERT INTO request_nonces (client_id, nonce, time_ms, request_id)
                    VALUES (p_client_id, p_nonce, p_nonce_time_ms, p_request_id)
                    ON CONFLICT (client_id, nonce) DO UPDATE SET time_ms = excluded.time_ms, request_id = excluded.request_id;
                END IF;
                INSERT INTO records (id, owner, file_name, sha256, size, created_at_ms, encode_key_id, wrapped_decode_key,
                                     receipt, receipt_signature, client_request_id, encode_key)
                VALUES (p_id, p_owner, p_file_name, p_sha256, p_size, p_created_at_ms, p_encode_key_id, p_wrapped_decode_key,
                        p_receipt, p_receipt_signature, p_client_request_id, p_encode_key);
                INSERT INTO audit_log (idx, at_ms, kind, user_name, record_id, file_name, detail, source, client_id, leaf)
                VALUES (p_audit_idx, p_created_at_ms, 'save', p_owner, p_id, p_file_name, '', p_source, p_audit_client_id, p_leaf);
                INSERT INTO audit_tree (level, idx, hash)
                SELECT l, p_audit_idx >> l, substring(p_node_hashes FROM l * 32 + 1 FOR 32)
                FROM generate_series(0, length(p_node_hashes) / 32 - 1) AS l;
            EXCEPTION WHEN OTHERS THEN
                RETURN false;
            END;
            RETURN true;
        END
        $$;
        DO $$
        BEGIN
            ALTER TABLE records ALTER COLUMN receipt SET COMPRESSION lz4,
                                ALTER COLUMN receipt_signature SET COMPRESSION lz4,
                                ALTER COLUMN pending_receipt SET COMPRESSION lz4,
                                ALTER COLUMN pending_receipt_signature SET COMPRESSION lz4;
            ALTER TABLE request_replies ALTER COLUMN reply SET COMPRESSION lz4;
        EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
            NULL;
        END
        $$;
        """
}
