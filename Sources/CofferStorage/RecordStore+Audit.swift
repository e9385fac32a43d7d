import CofferAudit
import Foundation

/// One entry's inclusion proof.
public struct AuditInclusion: Sendable, Hashable {
    public var index: Int64
    public var leaf: [UInt8]
    public var proof: [[UInt8]]
}

/// Proofs about the log at one tree size.
public struct AuditProofSet: Sendable {
    public var treeSize: Int64
    public var rootHash: [UInt8]
    /// The newest stored checkpoint, if any.
    public var latestCheckpoint: StoredCheckpoint?
    /// Consistency proofs from each asked size (and from the latest checkpoint's) to ``treeSize``.
    public var consistency: [Int64: [[UInt8]]]
    public var inclusion: [AuditInclusion]
    /// The indexes of the `restore` entries below ``treeSize``, newest first (at most 16).
    public var restoreIndexes: [Int64] = []
}

/// What became of a checkpoint handed to the store.
public enum CheckpointStoreOutcome: Sendable, Equatable {
    case stored
    /// A checkpoint of that size is stored already (another transaction process signed it).
    case alreadyStored
    /// The checkpoint's root is not this log's root at its size.
    case mismatch
}

extension RecordStore {
    /// The most entries or proofs one call returns.
    public static let maxAuditBatch = 1_000

    /// The current tree size and root.
    public func auditTreeHead() throws -> (size: Int64, root: [UInt8]) {
        let log = AuditLog(db)
        let size = try log.size()
        return (size, try log.tree.rootHash(size: size))
    }

    /// Proofs at `treeSize` (the current size when `nil`): consistency from each of `fromSizes` and from
    /// the latest checkpoint, and inclusion of `indexes`, which must be entries of `owner` when one is given.
    ///
    /// - Returns: `nil` when an index is out of range or not in the owner's history.
    public func auditProofs(treeSize: Int64?, fromSizes: [Int64], indexes: [Int64], owner: String?) throws -> AuditProofSet? {
        let log = AuditLog(db)
        let current = try log.size()
        let size = treeSize ?? current
        // At an asked size every older size must be below it; at the current size, one beyond the log
        // (a checkpoint of a longer log: truncated, or restored) gets no proof, which the asker's
        // check then reports.
        guard size >= 0, size <= current, fromSizes.allSatisfy({ $0 >= 0 && (treeSize == nil || $0 <= size) }),
              indexes.count <= Self.maxAuditBatch, fromSizes.count <= 8
        else { return nil }
        let tree = log.tree
        let latest = try latestCheckpoint()
        var consistency: [Int64: [[UInt8]]] = [:]
        for from in fromSizes + (latest.map { [$0.treeSize] } ?? []) where from <= size {
            consistency[from] = try tree.consistencyProof(oldSize: from, newSize: size)
        }
        var inclusion: [AuditInclusion] = []
        for index in indexes {
            guard index >= 0, index < size,
                  let row = try db.query(
                      """
                      SELECT user_name, leaf, kind,
                             EXISTS (SELECT 1 FROM grants WHERE record_id = audit_log.record_id AND owner = $2)
                      FROM audit_log WHERE idx = $1
                      """,
                      [.int(index), .text(owner ?? "")]
                  ).first,
                  // A `web_module` entry names what every user is served, a `restore` entry what
                  // became of everyone's history: anyone may prove them. An entry on a record the
                  // owner shared is in their history, whoever made it.
                  try owner == nil || row.text(0) == owner || Self.provableByAnyone.contains(try row.text(2)) || row.int(3) != 0
            else { return nil }
            inclusion.append(AuditInclusion(index: index, leaf: try row.blob(1), proof: try tree.inclusionProof(index: index, size: size)))
        }
        // The kind is written out, so that both databases use the partial index of migration 11.
        let restores = try db.query("SELECT idx FROM audit_log WHERE kind = 'restore' AND idx < $1 ORDER BY idx DESC LIMIT 16",
                                    [.int(size)]).map { try $0.int(0) }
        return AuditProofSet(treeSize: size, rootHash: try tree.rootHash(size: size), latestCheckpoint: latest, consistency: consistency,
                             inclusion: inclusion, restoreIndexes: restores)
    }

    /// The kinds of entry any user may have proved: they concern everyone.
    static let provableByAnyone: Set<String> = [AuditKind.webModule.rawValue, AuditKind.restore.rawValue]

    /// Entries `[from, from + limit)` in index order, for an export.
    public func auditEntries(from: Int64, limit: Int) throws -> [AuditEntry] {
        try db.query(
            "SELECT \(AuditLog.entryColumns) FROM audit_log WHERE idx >= $1 ORDER BY idx LIMIT $2",
            [.int(from), .int(Int64(min(limit, Self.maxAuditBatch)))]
        ).map(AuditLog.entry)
    }

    /// The newest stored checkpoint.
    public func latestCheckpoint() throws -> StoredCheckpoint? {
        try db.query("SELECT tree_size, root, note FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1", []).first.map(Self.checkpoint)
    }

    /// Stored checkpoints with a tree size above `after`, smallest first.
    public func checkpoints(after: Int64, limit: Int) throws -> [StoredCheckpoint] {
        try db.query(
            "SELECT tree_size, root, note FROM audit_checkpoints WHERE tree_size > $1 ORDER BY tree_size LIMIT $2",
            [.int(after), .int(Int64(min(limit, Self.maxAuditBatch)))]
        ).map(Self.checkpoint)
    }

    /// Stores a signed checkpoint after checking that its root is this log's root at its size.
    public func storeCheckpoint(treeSize: Int64, rootHash: [UInt8], note: String, timeMs: Int64) throws -> CheckpointStoreOutcome {
        try db.transaction {
            let log = AuditLog(db)
            guard treeSize > 0, treeSize <= (try log.size()), try log.tree.rootHash(size: treeSize) == rootHash else { return .mismatch }
            guard try db.query("SELECT 1 FROM audit_checkpoints WHERE tree_size = $1", [.int(treeSize)]).isEmpty else { return .alreadyStored }
            try db.query(
                "INSERT INTO audit_checkpoints (tree_size, root, note, stored_at_ms) VALUES ($1, $2, $3, $4)",
                [.int(treeSize), .blob(rootHash), .text(note), .int(timeMs)]
            )
            return .stored
        }
    }

    /// Appends one event in a transaction of its own (refusals, operators' actions, rate-limit summaries).
    @discardableResult
    public func audit(_ event: AuditEvent) throws -> Int64 {
        let index = try db.transaction { try auditLog.append(event) }
        auditAppends += 1
        return index
    }

    private static func checkpoint(_ row: SQLRow) throws -> StoredCheckpoint {
        StoredCheckpoint(treeSize: try row.int(0), rootHash: try row.blob(1), note: try row.text(2))
    }
}
