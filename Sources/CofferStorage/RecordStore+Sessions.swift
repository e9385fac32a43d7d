import CofferAudit
extension RecordStore {
    /// The reason a request under a session ended by a logout or a password change is refused (sent as SESSION_ENDED).
    public static let sessionEndedReason = "the session was ended by a logout or a password change; log in again"

    /// Ends the sessions of `user` issued at or before `timeMs` on the device `clientID`, or on all
    /// the user's devices when `allDevices`, and audits it as `logout`.
    ///
    /// - Returns: The audit entry's index, or `nil` when `user` has no such device.
    public func endSessions(user: String, clientID: String, allDevices: Bool, timeMs: Int64, source: String) throws -> Int64? {
        try db.transaction {
            let ended = try endDeviceSessions(user: user, allDevices ? .every : .only(clientID), until: timeMs)
            let known = try ended > 0 || !db.query("SELECT 1 FROM devices WHERE user_name = $1 AND client_id = $2", [.text(user), .text(clientID)]).isEmpty
            guard known else { return nil }
            let detail = allDevices ? "ended the sessions of every device (\(ended))" : "ended this device's sessions"
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
            guard let account = try credentials(user: user) else { return nil }
            guard !account.locked else { throw StorageError(.locked, Refusal.accountLocked.reason) }
            try db.query("UPDATE users SET password_hash = $2, failed_logins = 0, locked_until_ms = 0 WHERE name = $1",
                         [.text(user), .text(passwordHash)])
            let ended = try endDeviceSessions(user: user, .allBut(clientID), until: timeMs)
            return try appendAudit(kind: .passwordChanged, user: user, timeMs: timeMs,
                                   detail: "ended the sessions of the other devices (\(ended))", source: source, clientID: clientID)
        }
    }

    /// Which of a user's devices ``endDeviceSessions(user:_:until:)`` ends the sessions of.
    enum Devices {
        case only(String)
        case allBut(String)
        case every
    }

    /// Ends the sessions of `user` on `devices` issued at or before `timeMs` (a later logout is kept);
    /// returns how many devices changed. The one mechanism behind logouts, password changes and unlocks.
    @discardableResult
    func endDeviceSessions(user: String, _ devices: Devices, until timeMs: Int64) throws -> Int {
        let ended = "UPDATE devices SET sessions_ended_ms = $2 WHERE user_name = $1 AND sessions_ended_ms < $2"
        switch devices {
        case .every: return try db.query(ended + " RETURNING 1", [.text(user), .int(timeMs)]).count
        case .only(let id): return try db.query(ended + " AND client_id = $3 RETURNING 1", [.text(user), .int(timeMs), .text(id)]).count
        case .allBut(let id): return try db.query(ended + " AND client_id <> $3 RETURNING 1", [.text(user), .int(timeMs), .text(id)]).count
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
