import CofferAudit
import Foundation

/// A record its owner shares with another user, as listed.
public struct Grant: Sendable, Hashable {
    public var recordID: [UInt8]
    public var owner: String
    public var grantee: String
    public var fileName: String
    public var sha256: [UInt8]
    public var size: Int64
    public var grantedAtMs: Int64
    /// When the grant ends; `nil`: when it is revoked.
    public var expiresAtMs: Int64?
    /// The record's central copy, if it has one.
    public var central: CentralCopy?
}

/// The answer to a share or an unshare.
public enum GrantOutcome: Sendable, Hashable {
    /// Done; the index of its audit entry.
    case done(auditIndex: Int64)
    /// No record of the requester's has this id, or (unshare) no live grant to revoke.
    case notFound(String)
    case refused(Refusal)
}

/// What a user may do with a record: the owner everything, a grantee under a live grant retrieve
/// it and read and replace its central copy.
enum RecordAccess: Equatable {
    case owner
    case grantee
    /// The user had a grant that was revoked or expired: the refusal says which.
    case ended(Refusal)
    /// Neither: the record is, for this user, as if it did not exist.
    case none

    /// Whether the user may retrieve the record.
    var allowed: Bool { self == .owner || self == .grantee }
    /// Whether the user may know of the record (its name in their history and refusals).
    var knowsRecord: Bool { self != .none }
}

extension RecordStore {
    /// What `user` may do with `record` at `timeMs`. A grant counts while it is neither revoked nor
    /// past its end, and while its grantee's account is not locked.
    func access(_ record: RecordRow, by user: String, atMs timeMs: Int64) throws -> RecordAccess {
        if record.owner == user { return .owner }
        let rows = try db.query(
            """
            SELECT g.revoked_at_ms, g.expires_at_ms, u.locked FROM grants g JOIN users u ON u.name = g.grantee
            WHERE g.record_id = $1 AND g.grantee = $2
            """,
            [.blob(record.id), .text(user)]
        )
        guard let row = rows.first else { return .none }
        if let revoked = try row.optionalInt(0) { return .ended(.grantEnded("\(record.owner) revoked it at \(Self.moment(revoked))")) }
        if let expires = try row.optionalInt(1), expires <= timeMs { return .ended(.grantEnded("it expired at \(Self.moment(expires))")) }
        if try row.int(2) != 0 { return .ended(.accountLocked) }
        return .grantee
    }

    /// The audit detail of what a grantee did: under whose grant.
    static func grantDetail(_ record: RecordRow, _ access: RecordAccess, _ detail: String = "") -> String {
        guard access == .grantee else { return detail }
        let under = "under \(record.owner)'s grant"
        return detail.isEmpty ? under : detail + "; " + under
    }

    /// Lets `grantee` retrieve the owner's record until `expiresAtMs` (`nil`: until revoked);
    /// sharing again replaces the grant's end. Audited as `share`, a refusal as `share_refused`.
    public func shareRecord(recordID: [UInt8], owner: String, grantee: String, expiresAtMs: Int64?, timeMs: Int64,
                            source: String, clientID: String) throws -> GrantOutcome {
        try db.transaction {
            guard let record = try loadRecord(recordID), record.owner == owner else {
                try appendAudit(kind: .shareRefused, user: owner, recordID: recordID, timeMs: timeMs,
                                detail: Self.noSuchRecordReason, source: source, clientID: clientID)
                return .notFound(Self.noSuchRecordReason)
            }
            let refuse = { (refusal: Refusal) throws -> GrantOutcome in
                try self.appendAudit(kind: .shareRefused, user: owner, recordID: recordID, fileName: record.fileName, timeMs: timeMs,
                                     detail: "share with \(grantee): " + refusal.reason, source: source, clientID: clientID)
                return .refused(refusal)
            }
            if record.ownerLocked { return try refuse(.accountLocked) }
            if record.wrappedKey == nil { return try refuse(.keyDestroyed) }
            if grantee == owner { return try refuse(.shareWithSelf) }
            if try db.query("SELECT 1 FROM users WHERE name = $1", [.text(grantee)]).isEmpty { return try refuse(.unknownGrantee) }
            if let expiresAtMs, expiresAtMs <= timeMs { return try refuse(.grantEndsInPast) }
            try db.query(
                """
                INSERT INTO grants (record_id, grantee, owner, granted_at_ms, expires_at_ms, revoked_at_ms) VALUES ($1, $2, $3, $4, $5, NULL)
                ON CONFLICT (record_id, grantee) DO UPDATE SET granted_at_ms = $4, expires_at_ms = $5, revoked_at_ms = NULL
                """,
                [.blob(recordID), .text(grantee), .text(owner), .int(timeMs), expiresAtMs.map(SQLValue.int) ?? .null]
            )
            let until = expiresAtMs.map { "until \(Self.moment($0))" } ?? "until revoked"
            return .done(auditIndex: try appendAudit(kind: .share, user: owner, recordID: recordID, fileName: record.fileName, timeMs: timeMs,
                                                     detail: "shared with \(grantee) \(until)", source: source, clientID: clientID))
        }
    }

    /// Ends the owner's grant of the record to `grantee` at once. Audited as `unshare`; an unshare
    /// of a record that is not the requester's as `share_refused`.
    public func unshareRecord(recordID: [UInt8], owner: String, grantee: String, timeMs: Int64, source: String, clientID: String) throws -> GrantOutcome {
        try db.transaction {
            guard let record = try loadRecord(recordID), record.owner == owner else {
                try appendAudit(kind: .shareRefused, user: owner, recordID: recordID, timeMs: timeMs,
                                detail: "unshare: " + Self.noSuchRecordReason, source: source, clientID: clientID)
                return .notFound(Self.noSuchRecordReason)
            }
            let revoked = try db.query(
                """
                UPDATE grants SET revoked_at_ms = $3
                WHERE record_id = $1 AND grantee = $2 AND revoked_at_ms IS NULL AND (expires_at_ms IS NULL OR expires_at_ms > $3)
                RETURNING 1
                """,
                [.blob(recordID), .text(grantee), .int(timeMs)]
            )
            guard !revoked.isEmpty else { return .notFound("the record is not shared with \(grantee) now") }
            try forgetReplies(recordID: recordID)
            return .done(auditIndex: try appendAudit(kind: .unshare, user: owner, recordID: recordID, fileName: record.fileName, timeMs: timeMs,
                                                     detail: "the grant to \(grantee) was revoked", source: source, clientID: clientID))
        }
    }

    /// The live grants at `timeMs` that `user` made or was given, of records whose keys still
    /// exist, newest first.
    public func listGrants(user: String, atMs timeMs: Int64, limit: Int) throws -> [Grant] {
        try db.query(
            """
            SELECT g.record_id, g.owner, g.grantee, r.file_name, r.sha256, r.size, g.granted_at_ms, g.expires_at_ms,
                   \(CentralCopy.joinedColumns)
            FROM grants g JOIN records r ON r.id = g.record_id LEFT JOIN central_copies c ON c.record_id = g.record_id
            WHERE (g.owner = $1 OR g.grantee = $1) AND g.revoked_at_ms IS NULL AND (g.expires_at_ms IS NULL OR g.expires_at_ms > $2)
                AND r.wrapped_decode_key IS NOT NULL
            ORDER BY g.granted_at_ms DESC LIMIT $3
            """,
            [.text(user), .int(timeMs), .int(Int64(limit))]
        ).map { row in
            let id = try row.blob(0)
            return Grant(recordID: id, owner: try row.text(1), grantee: try row.text(2), fileName: try row.text(3), sha256: try row.blob(4),
                         size: try row.int(5), grantedAtMs: try row.int(6), expiresAtMs: try row.optionalInt(7),
                         central: try CentralCopy(row: row, at: 8, recordID: id))
        }
    }

    /// A moment in an audit detail: UTC, to the second.
    static func moment(_ ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
