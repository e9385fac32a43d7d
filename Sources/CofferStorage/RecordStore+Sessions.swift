extension RecordStore {
    /// The reason a request under a session ended by a logout is refused (sent as SESSION_ENDED).
    public static let sessionEndedReason = "the session was ended by a logout; log in again"

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

    /// Whether a logout ended the session of `user` on `clientID` issued at `issuedMs`.
    func sessionEnded(user: String, clientID: String, issuedMs: Int64) throws -> Bool {
        !(try db.query(
            "SELECT 1 FROM devices WHERE user_name = $1 AND client_id = $2 AND sessions_ended_ms >= $3",
            [.text(user), .text(clientID), .int(issuedMs)]
        )).isEmpty
    }
}
