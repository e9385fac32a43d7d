import Foundation

/// The store as an operator checks it (`coffer-admin status`).
public struct StoreStatus: Sendable, Equatable {
    public var auditEntries: Int64
    /// The newest stored checkpoint's size, and when it was stored (`nil` without one).
    public var checkpointSize: Int64
    public var checkpointStoredMs: Int64?
    /// `none` for SQLite; for PostgreSQL whether this is the primary, and its standbys.
    public var replication: String
    /// The `restore` entries, newest first (at most 16).
    public var restoreIndexes: [Int64]
    public var records: Int64
}

extension RecordStore {
    /// The store's status now.
    public func status() throws -> StoreStatus {
        let entries = try AuditLog(db).size()
        let checkpoint = try db.query("SELECT tree_size, stored_at_ms FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1", []).first
        let restores = try db.query("SELECT idx FROM audit_log WHERE kind = 'restore' ORDER BY idx DESC LIMIT 16", []).map { try $0.int(0) }
        return StoreStatus(
            auditEntries: entries, checkpointSize: try checkpoint?.int(0) ?? 0, checkpointStoredMs: try checkpoint?.int(1),
            replication: try replication(), restoreIndexes: restores,
            records: try db.query("SELECT COUNT(*) FROM records", []).first?.int(0) ?? 0
        )
    }

    private func replication() throws -> String {
        guard db.dialect == .postgres else { return "none (an embedded file: back it up with coffer-admin backup)" }
        if try db.query("SELECT pg_is_in_recovery()::int", []).first?.int(0) == 1 { return "standby (read-only): not the primary" }
        let standbys = try db.query("SELECT application_name, state, sync_state FROM pg_stat_replication ORDER BY application_name", []).map {
            "\(try $0.text(0)) (\(try $0.text(1)), \(try $0.text(2)))"
        }
        return standbys.isEmpty ? "primary, no standby streaming" : "primary; standbys: " + standbys.joined(separator: ", ")
    }
}
