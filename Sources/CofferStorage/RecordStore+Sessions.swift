extension RecordStore {
    /// The reason a request under a session ended by a logout or a password change is refused (sent as SESSION_ENDED).
    public static let sessionEndedReason = "the session was ended by a logout or a password change; log in again"

    /// Ends the sessions of `user` issued at or before `timeMs` on the device `clientID`, or on all
    /// the user's devices when `allDevices`, and audits it as `logout`.
    ///
    /// - Returns: The audit entry's index, or `nil` when `user` has no such device.
    public func endSessions(user: String, clientID: String, allDevices: Bool, timeMs: Int64, source: String) throws -> Int64? {
        try db.transaction {
            let ended = allDevices
                ? try db.query(
                    "UPDATE devices SET sessions_ended_ms = $2 WHERE user_name = $1 AND sessions_ended_ms < $2 RETURNING client_id",
                    [.text(user), .int(timeMs)])
                : try db.query(
                    "UPDATE devices SET sessions_ended_ms = $3 WHERE user_name = $1 AND client_id = $2 AND sessions_ended_ms < $3 RETURNING client_id",
                    [.text(user), .text(clientID), .int(timeMs)])
            let known = try !ended.isEmpty || !db.query(
                "SELECT 1 FROM devices WHERE user_name = $1 AND client_id = $2", [.text(user), .text(clientID)]
            ).isEmpty
            guard known else { return nil }
            let detail = allDevices ? "ended the sessions of every device (\(ended.count))" : "ended this device's sessions"
            return try appendAudit(kind: .logout, user: user, timeMs: timeMs, detail: detail, source: source, clientID: clientID)
        }
    }

    /// Replaces the password hash of `user`, clears its failed-login count, ends the sessions of its
    /// devices other than `clientID` issued until `timeMs`, and audits it as `password_changed`.
    ///
    /// - Returns: The audit entry's index, or `nil` for an unknown user.
    /// - Throws: ``StorageError/Code/locked`` when an operator locked the account; nothing changes.
    public func changePassword(user: String, passwordHash: String, clientID: String, timeMs: Int64, source: String) throws -> Int64? {
        try db.transaction {
            guard let row = try db.query("SELECT locked FROM users WHERE name = $1", [.text(user)]).first else { return nil }
            guard try row.int(0) == 0 else { throw StorageError(.locked, Self.accountLockedReason) }
            try db.query("UPDATE users SET password_hash = $2, failed_logins = 0, locked_until_ms = 0 WHERE name = $1",
                         [.text(user), .text(passwordHash)])
            let ended = try db.query(
                "UPDATE devices SET sessions_ended_ms = $3 WHERE user_name = $1 AND client_id <> $2 AND sessions_ended_ms < $3 RETURNING client_id",
                [.text(user), .text(clientID), .int(timeMs)]
            )
            return try appendAudit(kind: .passwordChanged, user: user, timeMs: timeMs,
                                   detail: "ended the sessions of the other devices (\(ended.count))", source: source, clientID: clientID)
        }
    }

    /// Whether a logout or a password change ended the session of `user` on `clientID` issued at `issuedMs`.
    func sessionEnded(user: String, clientID: String, issuedMs: Int64) throws -> Bool {
        !(try db.query(
            "SELECT 1 FROM devices WHERE user_name = $1 AND client_id = $2 AND sessions_ended_ms >= $3",
            [.text(user), .text(clientID), .int(issuedMs)]
        )).isEmpty
    }
}
