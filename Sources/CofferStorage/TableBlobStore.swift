/// Central copies kept in the database itself, as chunks of a table (`blob_chunks`): on
/// PostgreSQL, so that streaming replication and a base backup carry them with the records.
///
/// An upload's chunks are rows under the name `upload:ID`; publishing renames them to the blob's
/// name in the caller's transaction (PostgreSQL keeps the chunks' TOASTed bytes where they are, so
/// a rename does not copy them). A row per chunk keeps each value far below PostgreSQL's 1 GB limit.
///
/// Every query is an index range over `(blob_id, at_offset)` near the offset asked for: a chunk is at
/// most ``maxChunk`` bytes, so one that overlaps an offset starts less than that before it.
public final class TableBlobStore: BlobStore {
    private let db: any SQLConnection
    /// The largest chunk staged in one row.
    public static let maxChunk = 1 << 20

    public init(connection: any SQLConnection) { self.db = connection }

    public var kind: String { db.dialect == .postgres ? "postgresql" : "sqlite" }

    private static func staged(_ upload: String) -> String { "upload:" + upload }

    public func stagedLength(upload: String) throws -> Int64 {
        // Chunks are contiguous from 0: the last one ends where the upload does.
        let rows = try db.query(
            "SELECT at_offset + length(data) FROM blob_chunks WHERE blob_id = $1 ORDER BY at_offset DESC LIMIT 1", [.text(Self.staged(upload))]
        )
        return try rows.first?.int(0) ?? 0
    }

    public func stage(upload: String, offset: Int64, bytes: [UInt8]) throws {
        guard bytes.count <= Self.maxChunk else {
            throw StorageError(.blobs, "a chunk of \(bytes.count) bytes is larger than the \(Self.maxChunk) one row takes")
        }
        // A staged chunk need not be durable on its own: the commit that makes the upload a copy
        // is, and PostgreSQL flushes everything written before it with it. Only for a transaction of
        // the chunk's own: one shared with other requests (a batch) keeps its durable commit.
        let ownTransaction = !db.transactionCounts.open
        try db.transaction {
            if ownTransaction, db.dialect == .postgres { try db.execute("SET LOCAL synchronous_commit TO off") }
            // Anything at or beyond `offset` is dropped; a chunk that straddles it is cut.
            let name = Self.staged(upload)
            let straddling = try db.query(
                "SELECT at_offset, data FROM blob_chunks WHERE blob_id = $1 AND at_offset >= $3 AND at_offset < $2 AND at_offset + length(data) > $2",
                [.text(name), .int(offset), .int(offset - Int64(Self.maxChunk))]
            )
            // Rows that start at or after `offset`, and the one that straddles it.
            try db.query("DELETE FROM blob_chunks WHERE blob_id = $1 AND at_offset >= $2", [.text(name), .int(offset)])
            try db.query("DELETE FROM blob_chunks WHERE blob_id = $1 AND at_offset >= $3 AND at_offset < $2 AND at_offset + length(data) > $2",
                         [.text(name), .int(offset), .int(offset - Int64(Self.maxChunk))])
            for row in straddling {
                let start = try row.int(0)
                let kept = Array(try row.blob(1).prefix(Int(offset - start)))
                try db.query("INSERT INTO blob_chunks (blob_id, at_offset, data) VALUES ($1, $2, $3)", [.text(name), .int(start), .blob(kept)])
            }
            try db.query("INSERT INTO blob_chunks (blob_id, at_offset, data) VALUES ($1, $2, $3)", [.text(name), .int(offset), .blob(bytes)])
        }
    }

    public func readStaged(upload: String, offset: Int64, length: Int) throws -> [UInt8] {
        try read(name: Self.staged(upload), offset: offset, length: length) ?? []
    }

    public func publish(upload: String, as blob: String) throws {
        try db.transaction {
            let exists = try !db.query("SELECT 1 FROM blob_chunks WHERE blob_id = $1 LIMIT 1", [.text(blob)]).isEmpty
            if exists {
                try discard(upload: upload)
            } else {
                try db.query("UPDATE blob_chunks SET blob_id = $2 WHERE blob_id = $1", [.text(Self.staged(upload)), .text(blob)])
            }
        }
    }

    public func discard(upload: String) throws {
        try db.query("DELETE FROM blob_chunks WHERE blob_id = $1", [.text(Self.staged(upload))])
    }

    public func read(blob: String, offset: Int64, length: Int) throws -> [UInt8]? {
        try read(name: blob, offset: offset, length: length)
    }

    public func delete(blob: String) throws {
        try db.query("DELETE FROM blob_chunks WHERE blob_id = $1", [.text(blob)])
    }

    /// One statement, so one snapshot: a blob's chunks commit with the row that names it, so a blob
    /// visible here unnamed is unnamed for good, whatever its age, and one committing meanwhile is
    /// not seen at all.
    public func removeUnnamed(named: () throws -> Set<String>, publishedAtLeast ageMs: Int64) throws -> Int {
        let removed = try db.query(
            """
            DELETE FROM blob_chunks WHERE blob_id NOT LIKE 'upload:%' AND blob_id NOT IN (SELECT blob_id FROM central_copies)
            RETURNING blob_id
            """,
            []
        )
        return Set(try removed.map { try $0.text(0) }).count
    }

    /// The bytes `[offset, offset + length)` of the chunks named `name`; `nil` when it has none.
    private func read(name: String, offset: Int64, length: Int) throws -> [UInt8]? {
        let rows = try db.query(
            """
            SELECT at_offset, data FROM blob_chunks
            WHERE blob_id = $1 AND at_offset >= $4 AND at_offset < $3 AND at_offset + length(data) > $2 ORDER BY at_offset
            """,
            [.text(name), .int(offset), .int(offset + Int64(length)), .int(offset - Int64(Self.maxChunk))]
        )
        if rows.isEmpty {
            let any = try db.query("SELECT 1 FROM blob_chunks WHERE blob_id = $1 LIMIT 1", [.text(name)])
            return any.isEmpty ? nil : []
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        for row in rows {
            let start = try row.int(0)
            let data = try row.blob(1)
            let from = Int(max(offset - start, 0))
            let to = Int(min(Int64(data.count), offset + Int64(length) - start))
            guard start + Int64(from) == offset + Int64(bytes.count), from < to else {
                throw StorageError(.corrupt, "a central copy's chunks are not contiguous at offset \(start)")
            }
            bytes += data[from..<to]
        }
        return bytes
    }
}
