import CofferAudit
/// An account as an operator sees it (`coffer-admin users list`).
public struct UserSummary: Sendable, Hashable {
    public var name: String
    public var createdAtMs: Int64
    /// Locked by an operator.
    public var locked: Bool
    /// Locked after failed logins until then (Unix ms; 0 if not).
    public var lockedUntilMs: Int64
    public var failedLogins: Int64
    public var records: Int64
    public var devices: Int64
}

extension RecordStore {
    /// Locks or unlocks `user` for an operator and audits it as `admin`, with `operatorName` as the
    /// source. Unlocking also clears a lockout after failed logins, and ends every session of the
    /// account issued before it, so those open when the lock came do not come back.
    ///
    /// - Returns: The audit entry's index, or `nil` for an unknown user.
    public func setLocked(user: String, locked: Bool, reason: String, operatorName: String, timeMs: Int64) throws -> Int64? {
        try db.transaction {
            guard !(try db.query("SELECT 1 FROM users WHERE name = $1", [.text(user)])).isEmpty else { return nil }
            if locked {
                try db.query("UPDATE users SET locked = TRUE WHERE name = $1", [.text(user)])
            } else {
                try db.query("UPDATE users SET locked = FALSE, failed_logins = 0, locked_until_ms = 0 WHERE name = $1", [.text(user)])
                // No login succeeds while locked, so the sessions issued until now are those that were
                // open when the lock came: they stay refused, and a thief's does not come back.
                try endDeviceSessions(user: user, .every, until: timeMs)
            }
            let what = locked ? "locked by an operator" : "unlocked by an operator"
            return try appendAudit(kind: .admin, user: user, timeMs: timeMs, detail: reason.isEmpty ? what : "\(what): \(reason)", source: operatorName)
        }
    }

    /// Whether an operator locked `user`; `false` for an unknown user.
    public func isLocked(user: String) throws -> Bool {
        (try db.query("SELECT locked FROM users WHERE name = $1", [.text(user)]).first?.int(0) ?? 0) != 0
    }

    /// Accounts by name after `after`, at most `limit`.
    public func listUsers(after: String, limit: Int) throws -> [UserSummary] {
        try db.query(
            """
            SELECT name, created_at_ms, locked, locked_until_ms, failed_logins,
                   (SELECT COUNT(*) FROM records WHERE owner = users.name),
                   (SELECT COUNT(*) FROM devices WHERE user_name = users.name)
            FROM users WHERE name > $1 ORDER BY name LIMIT $2
            """,
            [.text(after), .int(Int64(max(1, limit)))]
        ).map { r in
            UserSummary(
                name: try r.text(0), createdAtMs: try r.int(1), locked: try r.int(2) != 0, lockedUntilMs: try r.int(3),
                failedLogins: try r.int(4), records: try r.int(5), devices: try r.int(6)
            )
        }
    }
}
