import CofferAudit
import Foundation

/// An event to append to the audit log.
public struct AuditEvent: Sendable {
    public var kind: String
    public var user: String
    public var recordID: [UInt8]?
    public var fileName: String?
    public var timeMs: Int64
    public var detail: String
    public var source: String
    public var clientID: String

    public init(kind: String, user: String, recordID: [UInt8]? = nil, fileName: String? = nil, timeMs: Int64, detail: String = "", source: String, clientID: String = "") {
        self.kind = kind
        self.user = user
        self.recordID = recordID
        self.fileName = fileName
        self.timeMs = timeMs
        self.detail = detail
        self.source = source
        self.clientID = clientID
    }
}

/// A stored signed checkpoint.
public struct StoredCheckpoint: Sendable, Hashable {
    public var treeSize: Int64
    public var rootHash: [UInt8]
    /// The signed note, as the transaction tier signed it.
    public var note: String
}

/// An audit entry ready to be written: its index, its leaf bytes and the complete-subtree hashes
/// it closes, the leaf's own first.
struct PreparedAppend {
    let index: Int64
    let event: AuditEvent
    let leaf: [UInt8]
    let nodes: [(MerkleNodeID, [UInt8])]
}

/// The append-only Merkle log of audit entries inside the store (RFC 9162 hashing).
///
/// Each append writes the entry's row, its leaf bytes and the complete-subtree hashes it closes,
/// inside the caller's transaction; indexes are gapless because appends are serialized (an
/// advisory lock on PostgreSQL, the write lock on SQLite) and a rollback undoes them all.
struct AuditLog {
    let db: any SQLConnection
    /// Whether the caller already holds the append lock for this whole transaction.
    let lockHeld: Bool
    /// The log's size and right edge as this process last saw them; a fresh one reads both.
    let frontier: AuditFrontier

    init(_ db: any SQLConnection, lockHeld: Bool = false, frontier: AuditFrontier = AuditFrontier()) {
        self.db = db
        self.lockHeld = lockHeld
        self.frontier = frontier
    }

    /// Serializes appends across processes until the transaction ends.
    static let appendLock: Int64 = 2024112702

    /// Appends `event` as the next leaf; must run inside a transaction.
    ///
    /// - Throws: `.audit` when the entry cannot be written (the caller's change must roll back with
    ///   it), `.connection` when the store is gone, `.contended` when another writer held the log too long.
    @discardableResult
    func append(_ event: AuditEvent) throws -> Int64 {
        try Self.auditFailure {
            let entry = try prepare(event)
            try write(entry)
            return entry.index
        }
    }

    /// Runs `body`, reporting any failure but a lost connection or a busy store as an audit failure.
    static func auditFailure<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StorageError where error.code == .connection || error.code == .contended {
            throw error
        } catch {
            throw StorageError(.audit, "the audit entry could not be written: \(error)")
        }
    }

    /// Takes the append lock (unless held) and computes `event`'s leaf and subtree hashes as the
    /// next entry, without writing it. The caller writes it in this transaction and then calls
    /// ``written(_:)``, or writes nothing.
    func prepare(_ event: AuditEvent) throws -> PreparedAppend {
        if db.dialect == .postgres && !lockHeld {
            try db.query("SELECT pg_advisory_xact_lock($1)", [.int(Self.appendLock)])
        }
        let (index, siblings) = try frontier.next(on: db)
        let leaf = try AuditLeaf(
            index: index, timeMs: event.timeMs, kind: event.kind, user: event.user,
            recordID: event.recordID.map(AuditLeaf.hex), fileName: event.fileName,
            detail: event.detail, source: event.source, clientID: event.clientID
        ).encoded()
        let nodes = try MerkleTree { node in
            guard let hash = siblings[node] else { throw MerkleError.missingNode(node) }
            return hash
        }.nodesForAppend(index: index, leafHash: MerkleHash.leaf(leaf))
        return PreparedAppend(index: index, event: event, leaf: leaf, nodes: nodes)
    }

    /// Records that `entry` was written in the current transaction.
    func written(_ entry: PreparedAppend) {
        frontier.advance(past: entry.index, nodes: entry.nodes, on: db)
    }

    /// Writes a prepared entry and its subtree hashes.
    private func write(_ entry: PreparedAppend) throws {
        let event = entry.event
        let entryColumns = "INSERT INTO audit_log (idx, at_ms, kind, user_name, record_id, file_name, detail, source, client_id, leaf) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        let entryValues: [SQLValue] = [
            .int(entry.index), .int(event.timeMs), .text(event.kind), .text(event.user), event.recordID.map(SQLValue.blob) ?? .null,
            event.fileName.map(SQLValue.text) ?? .null, .text(event.detail), .text(event.source), .text(event.clientID), .blob(entry.leaf),
        ]
        var nodeValues: [SQLValue] = []
        var rows: [String] = []
        for (node, hash) in entry.nodes {
            let first = (db.dialect == .postgres ? entryValues.count : 0) + nodeValues.count + 1
            rows.append("($\(first), $\(first + 1), $\(first + 2))")
            nodeValues += [.int(Int64(node.level)), .int(node.index), .blob(hash)]
        }
        let nodeInsert = "INSERT INTO audit_tree (level, idx, hash) VALUES " + rows.joined(separator: ", ")
        do {
            if db.dialect == .postgres {
                // One round trip for the entry and its subtree hashes.
                try db.query("WITH entry AS (\(entryColumns)) \(nodeInsert)", entryValues + nodeValues)
            } else {
                // SQLite has no data-modifying WITH; it runs in process, so two statements cost little.
                try db.query(entryColumns, entryValues)
                try db.query(nodeInsert, nodeValues)
            }
        } catch {
            frontier.forget()
            throw error
        }
        written(entry)
    }

    /// The number of leaves.
    func size() throws -> Int64 {
        try AuditFrontier.size(db)
    }

    /// The tree algorithms over the stored subtree hashes.
    var tree: MerkleTree {
        let db = self.db
        return MerkleTree { node in
            guard let row = try db.query("SELECT hash FROM audit_tree WHERE level = $1 AND idx = $2", [.int(Int64(node.level)), .int(node.index)]).first else {
                throw MerkleError.missingNode(node)
            }
            return try row.blob(0)
        }
    }

    static let entryColumns = "idx, at_ms, kind, user_name, record_id, file_name, detail, source, client_id, leaf"

    static func entry(_ row: SQLRow) throws -> AuditEntry {
        AuditEntry(
            index: try row.int(0), timeMs: try row.int(1), kind: try row.text(2), user: try row.text(3),
            recordID: try row.optionalBlob(4), fileName: try row.optionalText(5), detail: try row.text(6),
            source: try row.text(7), clientID: try row.text(8), leaf: try row.blob(9)
        )
    }
}
