import CofferAudit

/// What this process remembers of the audit log between appends: its size and the complete
/// subtrees on its right edge (the siblings the next append hashes with).
///
/// With it, an append under the append lock costs one write instead of a size query, a sibling
/// query and a write. It is trusted only when nothing can have changed the log behind it:
///
/// - inside the transaction that last confirmed it, while no rollback (of a savepoint or of the
///   transaction) happened on the connection since;
/// - in a later transaction, once the lock is held, when the log's size still equals the
///   remembered one and no rollback happened since it was last advanced. The log is append-only,
///   so the same size means the same leaves, unless a rollback of ours undid appends that another
///   process then matched in number; any rollback therefore sends it back to the database.
final class AuditFrontier {
    private var size: Int64 = -1
    private var edge: [MerkleNodeID: [UInt8]] = [:]
    /// The connection's counts when the frontier was last confirmed or advanced.
    private var counts = TransactionCounts(begun: -1, rolledBack: -1)

    /// The index the next append gets and the sibling hashes it needs, reading from the database
    /// only what cannot be trusted. The caller holds the append lock.
    func next(on db: any SQLConnection) throws -> (index: Int64, siblings: [MerkleNodeID: [UInt8]]) {
        let now = db.transactionCounts
        guard now.open else {
            forget()
            let stored = try Self.size(db)
            return (stored, try Self.read(MerkleTree.siblingsForAppend(index: stored), db))
        }
        let sameTransaction = now.begun == counts.begun
        if sameTransaction, now.rolledBack == counts.rolledBack { return (size, edge) }
        let stored = try Self.size(db)
        let trusted = stored == size && (sameTransaction || now.rolledBack == counts.rolledBack)
        if !trusted {
            edge = try Self.read(MerkleTree.siblingsForAppend(index: stored), db)
            size = stored
        }
        counts = now
        return (size, edge)
    }

    /// Records that leaf `index` was appended with the subtree hashes `nodes` in the current
    /// transaction.
    func advance(past index: Int64, nodes: [(MerkleNodeID, [UInt8])], on db: any SQLConnection) {
        guard index == size, db.transactionCounts.open else { return forget() }
        var known = edge
        for (node, hash) in nodes { known[node] = hash }
        edge = [:]
        for node in MerkleTree.siblingsForAppend(index: index + 1) {
            guard let hash = known[node] else { return forget() }
            edge[node] = hash
        }
        size = index + 1
        counts = db.transactionCounts
    }

    /// The log's size as last appended or read here, when it is known.
    var knownSize: Int64? { size >= 0 ? size : nil }

    /// Drops what is remembered: the next append reads the log again.
    func forget() {
        size = -1
        edge = [:]
        counts = TransactionCounts(begun: -1, rolledBack: -1)
    }

    /// The number of leaves in the stored log.
    static func size(_ db: any SQLConnection) throws -> Int64 {
        try db.query("SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_log", []).first?.int(0) ?? 0
    }

    /// The stored hashes of `nodes`, read in one query.
    static func read(_ nodes: [MerkleNodeID], _ db: any SQLConnection) throws -> [MerkleNodeID: [UInt8]] {
        guard !nodes.isEmpty else { return [:] }
        var conditions: [String] = []
        var values: [SQLValue] = []
        for node in nodes {
            conditions.append("(level = $\(values.count + 1) AND idx = $\(values.count + 2))")
            values += [.int(Int64(node.level)), .int(node.index)]
        }
        var found: [MerkleNodeID: [UInt8]] = [:]
        for row in try db.query("SELECT level, idx, hash FROM audit_tree WHERE " + conditions.joined(separator: " OR "), values) {
            found[MerkleNodeID(level: Int(try row.int(0)), index: try row.int(1))] = try row.blob(2)
        }
        return found
    }
}
