import CofferAudit
import Foundation

/// A record whose decode key (or staged key) is not yet under the KEK of a rotation.
public struct RewrapCandidate: Sendable, Equatable {
    public var recordID: [UInt8]
    public var owner: String
    public var encodeKeyID: [UInt8]
    /// The wrapped decode key, or `nil` when it is already in the current form.
    public var wrapped: [UInt8]?
    /// A staged re-seal's key id and wrapped key, when one is staged and not yet in the current form.
    public var pendingEncodeKeyID: [UInt8]?
    public var pendingWrapped: [UInt8]?
}

/// One record's keys rewrapped: each replaced only if it is still the one listed.
public struct KeyRewrapChange: Sendable {
    public var recordID: [UInt8]
    public var oldWrapped: [UInt8]?
    public var newWrapped: [UInt8]?
    public var oldPending: [UInt8]?
    public var newPending: [UInt8]?
    public init(recordID: [UInt8], oldWrapped: [UInt8]?, newWrapped: [UInt8]?, oldPending: [UInt8]?, newPending: [UInt8]?) {
        self.recordID = recordID
        self.oldWrapped = oldWrapped
        self.newWrapped = newWrapped
        self.oldPending = oldPending
        self.newPending = newPending
    }
}

/// The wrapped forms the store tells apart by length and first bytes, never by opening them
/// (docs/PROTOCOL.md, "Keys at rest"): the untagged form of key files, the tagged one, and a device's.
public enum WrappedKeyForm {
    /// The untagged form of key files: nonce, sealed scalar, tag.
    public static let untaggedLength = 60
    /// The tagged form: 0x03, the KEK's 8-byte id, nonce, sealed scalar, tag.
    public static let taggedLength = 69
    public static let taggedMarker: UInt8 = 3
    /// The first bytes of every key in the tagged form under the KEK `kekID`.
    public static func tag(kekID: [UInt8]) -> [UInt8] { [taggedMarker] + kekID }
}

extension RecordStore {
    /// Records with a key in a form of key files other than `currentTag`'s, after `after` in id order.
    public func rewrapCandidates(currentTag: [UInt8], after: [UInt8], limit: Int) throws -> [RewrapCandidate] {
        let stale = { (column: String, n: Int) in
            "(length(\(column)) = \(WrappedKeyForm.untaggedLength) OR (length(\(column)) = \(WrappedKeyForm.taggedLength) AND substr(\(column), 1, 1) = $\(n) AND substr(\(column), 1, 9) <> $\(n + 1)))"
        }
        let marker: SQLValue = .blob([WrappedKeyForm.taggedMarker])
        let rows = try db.query(
            """
            SELECT id, owner, encode_key_id, wrapped_decode_key, pending_encode_key_id, pending_wrapped_decode_key,
                   CASE WHEN \(stale("wrapped_decode_key", 2)) THEN 1 ELSE 0 END, CASE WHEN \(stale("pending_wrapped_decode_key", 4)) THEN 1 ELSE 0 END
            FROM records WHERE id > $1 AND (\(stale("wrapped_decode_key", 6)) OR \(stale("pending_wrapped_decode_key", 8)))
            ORDER BY id LIMIT $10
            """,
            [.blob(after), marker, .blob(currentTag), marker, .blob(currentTag), marker, .blob(currentTag), marker, .blob(currentTag),
             .int(Int64(max(1, min(limit, Self.maxAuditBatch))))]
        )
        return try rows.map { row in
            let keyStale = try row.int(6) != 0
            let pendingStale = try row.int(7) != 0
            return RewrapCandidate(
                recordID: try row.blob(0), owner: try row.text(1), encodeKeyID: try row.blob(2),
                wrapped: keyStale ? try row.blob(3) : nil,
                pendingEncodeKeyID: pendingStale ? try row.blob(4) : nil, pendingWrapped: pendingStale ? try row.blob(5) : nil
            )
        }
    }

    /// Replaces each listed key that is still the one listed, and audits the batch as `key_rewrap`.
    /// The overwritten forms leave the database's files at commit where the store can do that.
    ///
    /// - Returns: How many keys moved, and the audit entry's index (`nil` when none moved).
    public func rewrapKeys(_ changes: [KeyRewrapChange], kekID: String, timeMs: Int64, source: String) throws -> (moved: Int, auditIndex: Int64?) {
        try db.transaction {
            var moved = 0
            for change in changes {
                if let old = change.oldWrapped, let new = change.newWrapped {
                    moved += try db.query("UPDATE records SET wrapped_decode_key = $3 WHERE id = $1 AND wrapped_decode_key = $2 RETURNING 1",
                                          [.blob(change.recordID), .blob(old), .blob(new)]).count
                }
                if let old = change.oldPending, let new = change.newPending {
                    moved += try db.query("UPDATE records SET pending_wrapped_decode_key = $3 WHERE id = $1 AND pending_wrapped_decode_key = $2 RETURNING 1",
                                          [.blob(change.recordID), .blob(old), .blob(new)]).count
                }
            }
            guard moved > 0 else { return (0, nil) }
            db.eraseOverwrittenOnCommit()
            let index = try appendAudit(kind: .keyRewrap, user: "admin", timeMs: timeMs,
                                        detail: "moved \(moved) decode keys to KEK \(kekID)", source: source)
            return (moved, index)
        }
    }

    /// How many keys (current and staged) each form holds: `kek:ID` for the tagged form, `kek-v1`
    /// for the untagged one, `device` for the rest.
    public func wrappedKeyCounts() throws -> [(form: String, count: Int64)] {
        var counts: [String: Int64] = [:]
        for column in ["wrapped_decode_key", "pending_wrapped_decode_key"] {
            let total = try db.query("SELECT COUNT(*) FROM records WHERE \(column) IS NOT NULL", []).first?.int(0) ?? 0
            let untagged = try db.query("SELECT COUNT(*) FROM records WHERE length(\(column)) = \(WrappedKeyForm.untaggedLength)", []).first?.int(0) ?? 0
            let tagged = try db.query(
                "SELECT substr(\(column), 2, 8), COUNT(*) FROM records WHERE length(\(column)) = \(WrappedKeyForm.taggedLength) AND substr(\(column), 1, 1) = $1 GROUP BY 1",
                [.blob([WrappedKeyForm.taggedMarker])]
            ).map { (try $0.blob(0), try $0.int(1)) }
            if untagged > 0 { counts["kek-v1", default: 0] += untagged }
            for (id, count) in tagged { counts["kek:" + AuditLeaf.hex(id), default: 0] += count }
            let device = total - untagged - tagged.reduce(0) { $0 + $1.1 }
            if device > 0 { counts["device", default: 0] += device }
        }
        return counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
