import CofferAudit
/// The outcome of auditing a login.
public enum LoginOutcome: Sendable, Hashable {
    /// Audited at `auditIndex`; `locked` when this failure locked the account.
    case recorded(auditIndex: Int64, locked: Bool)
    /// The client id is enrolled for this user with a different public key; refused and audited.
    case deviceConflict
}

extension RecordStore {
    /// Creates a user and enrolls its first device; returns `false` when the name is taken.
    public func registerUser(name: String, passwordHash: String, timeMs: Int64, source: String, device: DeviceIdentity? = nil) throws -> Bool {
        do {
            try db.transaction {
                try db.query(
                    "INSERT INTO users (name, password_hash, created_at_ms) VALUES ($1, $2, $3)",
                    [.text(name), .text(passwordHash), .int(timeMs)]
                )
                if let device { try enroll(device, user: name, timeMs: timeMs) }
                try appendAudit(kind: .register, user: name, timeMs: timeMs, source: source, clientID: device?.clientID ?? "")
            }
            return true
        } catch let error as StorageError where error.code == .constraint {
            return false
        }
    }

    /// The stored password hash of `user`, whether an operator locked it, and until when failed
    /// logins lock it (Unix ms, 0 if not); `nil` for an unknown user.
    public func credentials(user: String) throws -> (passwordHash: String, locked: Bool, lockedUntilMs: Int64)? {
        let rows = try db.query("SELECT password_hash, locked, locked_until_ms FROM users WHERE name = $1", [.text(user)])
        guard let row = rows.first else { return nil }
        return (try row.text(0), try row.int(1) != 0, try row.int(2))
    }

    /// Audits a login attempt and keeps the failure count: `maxFailures` failures in a row lock the
    /// account for `lockMs`. A success resets the count and enrolls `device` if it is new.
    @discardableResult
    public func recordLogin(
        user: String, success: Bool, reason: String, timeMs: Int64, source: String,
        device: DeviceIdentity? = nil, maxFailures: Int = 5, lockMs: Int64 = 15 * 60 * 1000
    ) throws -> LoginOutcome {
        try db.transaction {
            let clientID = device?.clientID ?? ""
            let failedSoFar = try db.query("SELECT failed_logins FROM users WHERE name = $1", [.text(user)]).first?.int(0)
            let exists = failedSoFar != nil
            if success, exists, let device {
                let known = try db.query(
                    "SELECT public_key FROM devices WHERE user_name = $1 AND client_id = $2",
                    [.text(user), .text(device.clientID)]
                )
                if let row = known.first, try row.blob(0) != device.publicKey {
                    try appendAudit(kind: .loginFailed, user: user, timeMs: timeMs, detail: "the device key does not match its client id",
                                    source: source, clientID: clientID)
                    return .deviceConflict
                }
                if known.isEmpty {
                    try enroll(device, user: user, timeMs: timeMs)
                    try appendAudit(kind: .deviceEnrolled, user: user, timeMs: timeMs, source: source, clientID: clientID)
                }
            }
            var locked = false
            if exists && success {
                try db.query("UPDATE users SET failed_logins = 0, locked_until_ms = 0 WHERE name = $1", [.text(user)])
            } else if exists {
                let failures = (failedSoFar ?? 0) + 1
                locked = failures >= Int64(maxFailures)
                try db.query(
                    "UPDATE users SET failed_logins = $2, locked_until_ms = $3 WHERE name = $1",
                    [.text(user), .int(locked ? 0 : failures), .int(locked ? timeMs + lockMs : 0)]
                )
            }
            let index = try appendAudit(kind: success ? .login : .loginFailed, user: user, timeMs: timeMs, detail: reason,
                                        source: source, clientID: clientID)
            if locked {
                try appendAudit(kind: .locked, user: user, timeMs: timeMs, detail: "\(maxFailures) failed logins in a row",
                                source: source, clientID: clientID)
            }
            return .recorded(auditIndex: index, locked: locked)
        }
    }

    /// Records a request nonce; `false` when this client used it before (a replay).
    ///
    /// Nonces older than `retentionMs` before `timeMs` are forgotten: the transaction tier refuses
    /// requests whose time is that far off, so they cannot be replayed anyway. A request made under
    /// `session` is taken only if no logout or password change ended it since it was issued; the check is part
    /// of the same statement, so it costs no round trip.
    ///
    /// - Throws: ``StorageError/Code/sessionEnded`` when a logout or a password change ended `session`.
    public func consumeNonce(
        clientID: String, nonce: [UInt8], timeMs: Int64, retentionMs: Int64, requestID: [UInt8]? = nil,
        session: (user: String, issuedMs: Int64)? = nil
    ) throws -> Bool {
        // One statement, no savepoint: a nonce seen within the retention is kept (no row returned);
        // one older than that is forgotten and taken anew.
        let taken = try db.query(
            db.dialect == .postgres ? Self.takeNoncePostgres : Self.takeNonceSQLite,
            [
                .text(clientID), .blob(nonce), .int(timeMs), requestID.map(SQLValue.blob) ?? .null, .int(timeMs - retentionMs),
                .text(session?.user ?? ""), .int(session?.issuedMs ?? Int64.max),
            ]
        )
        if !taken.isEmpty { return true }
        if let session, try sessionEnded(user: session.user, clientID: clientID, issuedMs: session.issuedMs) {
            throw StorageError(.sessionEnded, Self.sessionEndedReason)
        }
        // The same request retried by the transaction tier is not a replay.
        guard let requestID else { return false }
        let seen = try db.query("SELECT request_id FROM request_nonces WHERE client_id = $1 AND nonce = $2", [.text(clientID), .blob(nonce)])
        return try seen.first?.optionalBlob(0) == requestID
    }

    private static let takeNonceSQLite = """
        INSERT INTO request_nonces (client_id, nonce, time_ms, request_id)
        SELECT $1, $2, $3, $4
        WHERE NOT EXISTS (SELECT 1 FROM devices WHERE user_name = $6 AND client_id = $1 AND sessions_ended_ms >= $7)
        ON CONFLICT (client_id, nonce) DO UPDATE SET time_ms = excluded.time_ms, request_id = excluded.request_id
        WHERE request_nonces.time_ms < $5
        RETURNING 1
        """
    private static let takeNoncePostgres = """
        INSERT INTO request_nonces (client_id, nonce, time_ms, request_id)
        SELECT $1::text, $2::bytea, $3::bigint, $4::bytea
        WHERE NOT EXISTS (SELECT 1 FROM devices WHERE user_name = $6::text AND client_id = $1::text AND sessions_ended_ms >= $7::bigint)
        ON CONFLICT (client_id, nonce) DO UPDATE SET time_ms = excluded.time_ms, request_id = excluded.request_id
        WHERE request_nonces.time_ms < $5::bigint
        RETURNING 1
        """

    /// Forgets nonces older than `ms`; the database tier sweeps once a minute.
    public func forgetNonces(olderThanMs ms: Int64) throws {
        try db.query("DELETE FROM request_nonces WHERE time_ms < $1", [.int(ms)])
    }

    private func enroll(_ device: DeviceIdentity, user: String, timeMs: Int64) throws {
        try db.query(
            "INSERT INTO devices (user_name, client_id, public_key, enrolled_at_ms) VALUES ($1, $2, $3, $4)",
            [.text(user), .text(device.clientID), .blob(device.publicKey), .int(timeMs)]
        )
    }
}
