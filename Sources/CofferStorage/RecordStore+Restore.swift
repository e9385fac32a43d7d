public import CofferAudit
import Foundation

extension RecordStore {
    /// Records that the store was restored from a backup: ends every device's sessions (the
    /// backup forgot the logouts, password changes and nonces that came after it), drops uploads
    /// in progress, and appends the `restore` entry, in one transaction.
    ///
    /// - Returns: The restore entry's index (the backup's entry count) and how many devices' sessions ended.
    public func recordRestore(_ detail: RestoreDetail, operatorName: String, timeMs: Int64) throws -> (index: Int64, sessionsEnded: Int) {
        try db.transaction {
            let ended = try db.query("UPDATE devices SET sessions_ended_ms = $1 WHERE sessions_ended_ms < $1 RETURNING 1", [.int(timeMs)]).count
            for row in try db.query("SELECT upload_id FROM central_uploads", []) {
                try? blobs.discard(upload: try row.text(0))
            }
            try db.query("DELETE FROM central_uploads", [])
            let index = try appendAudit(kind: .restore, user: "admin", timeMs: timeMs, detail: detail.detail, source: operatorName)
            return (index, ended)
        }
    }

    /// When the newest audit entry was made, or `nil` for an empty log.
    public func newestAuditTimeMs() throws -> Int64? {
        try db.query("SELECT at_ms FROM audit_log ORDER BY idx DESC LIMIT 1", []).first?.int(0)
    }
}
