import CofferAudit
import CofferDigest

/// A record's central copy as stored.
public struct CentralCopy: Sendable, Hashable {
    public var recordID: [UInt8]
    public var blobID: String
    public var sha256: [UInt8]
    public var size: Int64
    public var generation: Int64
    public var receiptSignature: [UInt8]
    public var updatedAtMs: Int64
    /// The entry that audited the answer carrying it (0 when none did).
    public var auditIndex: Int64 = 0
}

extension CentralCopy {
    /// The columns a query selects from `central_copies c` (LEFT JOINed) for ``init(row:at:recordID:)``.
    static let joinedColumns = "c.blob_id, c.sha256, c.size, c.generation, c.receipt_signature, c.updated_at_ms"

    /// The central copy in `row` from column `index` on (``joinedColumns``); `nil` when the join found none.
    init?(row: SQLRow, at index: Int, recordID: [UInt8]) throws {
        guard let blob = try row.optionalText(index) else { return nil }
        self.init(recordID: recordID, blobID: blob, sha256: try row.blob(index + 1), size: try row.int(index + 2),
                  generation: try row.int(index + 3), receiptSignature: try row.blob(index + 4), updatedAtMs: try row.int(index + 5))
    }
}

/// How much each account may keep centrally.
public struct CentralQuota: Sendable, Hashable {
    /// The most bytes of central copies per account.
    public var maxBytes: Int64
    /// The most central copies per account.
    public var maxCopies: Int64

    public init(maxBytes: Int64 = 10 << 30, maxCopies: Int64 = 10_000) {
        self.maxBytes = maxBytes
        self.maxCopies = maxCopies
    }
}

/// The answer to an announced upload.
public enum UploadStart: Sendable, Hashable {
    /// Send the bytes from `received` on.
    case ready(uploadID: String, received: Int64)
    /// The central copy already is these bytes.
    case alreadyCurrent(CentralCopy)
    case notFound
    case refused(Refusal)
}

/// The answer to a chunk, a commit or an opened download.
public enum CentralOutcome<Value: Sendable & Hashable>: Sendable, Hashable {
    case done(Value)
    case notFound
    case refused(Refusal)
}

extension RecordStore {
    /// How long an upload that stopped is kept for resuming before its bytes are dropped.
    public static let uploadRetentionMs: Int64 = 24 * 3600 * 1000

    /// The id of the upload of `sha256` to `recordID`: the same bytes to the same record resume
    /// the same upload.
    static func uploadID(recordID: [UInt8], sha256: [UInt8]) -> String {
        AuditLeaf.hex(recordID) + "-" + AuditLeaf.hex(sha256)
    }

    /// A blob's name: its SHA-256, in hex (the content address).
    static func blobID(sha256: [UInt8]) -> String { AuditLeaf.hex(sha256) }

    /// Checks an announced upload against the record, its receipt and the owner's quota before any
    /// byte is sent, and opens (or finds) the upload. Refusals are audited as `central_refused`.
    ///
    /// The requester is the record's owner or a user it is shared with under a live grant; the
    /// copy counts towards the owner's quota either way.
    public func beginUpload(
        recordID: [UInt8], owner requester: String, sha256: [UInt8], size: Int64, receiptSignature: [UInt8],
        timeMs: Int64, source: String, clientID: String
    ) throws -> UploadStart {
        try db.transaction {
            guard let record = try loadRecord(recordID), case let access = try self.access(record, by: requester, atMs: timeMs), access.knowsRecord else {
                try appendAudit(kind: .centralRefused, user: requester, recordID: recordID, timeMs: timeMs,
                                detail: Self.noSuchRecordReason, source: source, clientID: clientID)
                return .notFound
            }
            let refuse = { (refusal: Refusal) throws -> UploadStart in
                try self.appendAudit(kind: .centralRefused, user: requester, recordID: recordID, fileName: record.fileName, timeMs: timeMs,
                                     detail: Self.grantDetail(record, access, "upload: " + refusal.reason), source: source, clientID: clientID)
                return .refused(refusal)
            }
            if case .ended(let refusal) = access { return try refuse(refusal) }
            if record.ownerLocked { return try refuse(.accountLocked) }
            if record.wrappedKey == nil { return try refuse(.keyDestroyed) }
            guard receiptSignature == record.signature || receiptSignature == record.pendingSignature else {
                return try refuse(try isRetired(recordID, receiptSignature) ? .oldCopy : .receiptMismatch)
            }
            let current = try centralCopy(recordID)
            if let current, current.sha256 == sha256, current.size == size { return .alreadyCurrent(current) }
            if let exceeded = try quotaExceeded(owner: record.owner, recordID: recordID, adding: size) { return try refuse(.quotaExceeded(exceeded)) }
            let upload = Self.uploadID(recordID: recordID, sha256: sha256)
            let existing = try db.query("SELECT size FROM central_uploads WHERE upload_id = $1", [.text(upload)])
            if let row = existing.first {
                guard try row.int(0) == size else { return try refuse(.uploadDigestMismatch) }
                // The same bytes to the same record resume the same upload, whoever of those who may sends them.
                try db.query("UPDATE central_uploads SET receipt_signature = $2, started_at_ms = $3, owner = $4 WHERE upload_id = $1",
                             [.text(upload), .blob(receiptSignature), .int(timeMs), .text(requester)])
            } else {
                try db.query(
                    """
                    INSERT INTO central_uploads (upload_id, record_id, owner, sha256, size, receipt_signature, started_at_ms)
                    VALUES ($1, $2, $3, $4, $5, $6, $7)
                    """,
                    [.text(upload), .blob(recordID), .text(requester), .blob(sha256), .int(size), .blob(receiptSignature), .int(timeMs)]
                )
            }
            return .ready(uploadID: upload, received: min(try blobs.stagedLength(upload: upload), size))
        }
    }

    /// Why adding `size` bytes as `recordID`'s central copy would exceed the owner's quota, or `nil`.
    private func quotaExceeded(owner: String, recordID: [UInt8], adding size: Int64) throws -> String? {
        let row = try db.query(
            "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM central_copies WHERE owner = $1 AND record_id <> $2",
            [.text(owner), .blob(recordID)]
        )
        let copies = try row.first?.int(0) ?? 0
        let bytes = try row.first?.int(1) ?? 0
        if copies + 1 > centralQuota.maxCopies {
            return "the account keeps \(copies) central copies, and at most \(centralQuota.maxCopies) are allowed"
        }
        if bytes + size > centralQuota.maxBytes {
            return "\(bytes) bytes are kept and \(size) more were asked for, over the \(centralQuota.maxBytes) allowed"
        }
        return nil
    }

    /// Stages one chunk of an upload, for the requester who announced it last.
    ///
    /// - Returns: The bytes now staged.
    public func putChunk(uploadID: String, owner: String, offset: Int64, bytes: [UInt8]) throws -> CentralOutcome<Int64> {
        let rows = try db.query("SELECT owner, size FROM central_uploads WHERE upload_id = $1", [.text(uploadID)])
        guard let row = rows.first, try row.text(0) == owner else { return .notFound }
        let size = try row.int(1)
        let staged = try blobs.stagedLength(upload: uploadID)
        guard offset >= 0, offset <= staged, offset + Int64(bytes.count) <= size else {
            return .refused(.uploadIncomplete(received: min(staged, size), size: size))
        }
        try blobs.stage(upload: uploadID, offset: offset, bytes: bytes)
        // The digest follows the bytes while they come in order; otherwise the commit reads them back.
        if var digest = uploadDigests[uploadID], digest.count == offset {
            digest.update(bytes)
            uploadDigests[uploadID] = digest
        } else if offset == 0 {
            var digest = ContentDigest()
            digest.update(bytes)
            uploadDigests[uploadID] = digest
        } else {
            uploadDigests[uploadID] = nil
        }
        return .done(offset + Int64(bytes.count))
    }

    /// Checks the staged upload and makes it the record's central copy, audited, in one transaction;
    /// an upload under the staged re-seal's receipt confirms the re-seal in the same transaction.
    /// The replaced copy's bytes are removed after the commit. The grant of a requester who is not
    /// the owner is checked again here: one revoked during the upload stops it.
    public func commitUpload(uploadID: String, owner requester: String, timeMs: Int64, source: String, clientID: String) throws -> CentralOutcome<CentralCopy> {
        let rows = try db.query(
            "SELECT record_id, sha256, size, receipt_signature FROM central_uploads WHERE upload_id = $1 AND owner = $2",
            [.text(uploadID), .text(requester)]
        )
        guard let row = rows.first else { return try alreadyCommitted(uploadID: uploadID, requester: requester, atMs: timeMs) }
        let recordID = try row.blob(0), sha256 = try row.blob(1), size = try row.int(2), receiptSignature = try row.blob(3)
        let staged = try blobs.stagedLength(upload: uploadID)
        guard staged == size else { return .refused(.uploadIncomplete(received: min(staged, size), size: size)) }
        let followed = uploadDigests[uploadID].flatMap { $0.count == size ? $0.finalize() : nil }
        let digest = try followed ?? blobs.stagedDigest(upload: uploadID, length: size)
        uploadDigests[uploadID] = nil
        guard digest == sha256 else {
            try blobs.discard(upload: uploadID)
            try db.query("DELETE FROM central_uploads WHERE upload_id = $1", [.text(uploadID)])
            return .refused(.uploadDigestMismatch)
        }
        let outcome: CentralOutcome<CentralCopy> = try db.transaction {
            guard var record = try loadRecord(recordID) else { return .notFound }
            let access = try access(record, by: requester, atMs: timeMs)
            if case .ended(let refusal) = access { return .refused(refusal) }
            guard access.allowed else { return .notFound }
            if record.ownerLocked { return .refused(.accountLocked) }
            if record.wrappedKey == nil { return .refused(.keyDestroyed) }
            if record.pendingSignature == receiptSignature {
                record = try promotePending(record, by: requester, timeMs: timeMs, source: source, clientID: clientID,
                                            how: Self.grantDetail(record, access, "confirmed by the upload of the re-sealed central copy"),
                                            replacingCentralCopy: true)
            }
            guard record.signature == receiptSignature else {
                return .refused(try isRetired(recordID, receiptSignature) ? .oldCopy : .receiptMismatch)
            }
            let blob = Self.blobID(sha256: sha256)
            try blobs.publish(upload: uploadID, as: blob)
            try db.query("DELETE FROM central_uploads WHERE upload_id = $1", [.text(uploadID)])
            let previous = try centralCopy(recordID)
            var copy = CentralCopy(recordID: recordID, blobID: blob, sha256: sha256, size: size,
                                   generation: (previous?.generation ?? 0) + 1, receiptSignature: receiptSignature, updatedAtMs: timeMs)
            if previous == nil {
                try db.query(
                    """
                    INSERT INTO central_copies (record_id, owner, blob_id, sha256, size, generation, receipt_signature, updated_at_ms)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    """,
                    [.blob(recordID), .text(record.owner), .text(blob), .blob(sha256), .int(size), .int(copy.generation), .blob(receiptSignature), .int(timeMs)]
                )
            } else {
                try db.query(
                    """
                    UPDATE central_copies SET blob_id = $2, sha256 = $3, size = $4, generation = $5, receipt_signature = $6, updated_at_ms = $7
                    WHERE record_id = $1
                    """,
                    [.blob(recordID), .text(blob), .blob(sha256), .int(size), .int(copy.generation), .blob(receiptSignature), .int(timeMs)]
                )
                if let old = previous?.blobID, old != blob { blobsToRemove.append(old) }
            }
            copy.auditIndex = try appendAudit(
                kind: previous == nil ? .centralUpload : .centralReplace, user: requester, recordID: recordID, fileName: record.fileName,
                timeMs: timeMs, detail: Self.grantDetail(record, access, Self.describe(copy)), source: source, clientID: clientID
            )
            return .done(copy)
        }
        try removeUnnamedBlobsIfCommitted()
        return outcome
    }

    /// A commit whose upload is gone: answered with the central copy when that already is the
    /// upload's bytes (the first commit's answer was lost).
    private func alreadyCommitted(uploadID: String, requester: String, atMs timeMs: Int64) throws -> CentralOutcome<CentralCopy> {
        let parts = uploadID.split(separator: "-")
        guard parts.count == 2, let recordID = AuditLeaf.bytes(hex: String(parts[0])),
              let current = try centralCopy(recordID), current.blobID == String(parts[1]),
              let record = try loadRecord(recordID), try access(record, by: requester, atMs: timeMs).allowed
        else { return .notFound }
        return .done(current)
    }

    /// Opens a download of the record's central copy, audited as `central_download` before any byte
    /// leaves. The requester is the record's owner or a user it is shared with under a live grant.
    public func openDownload(recordID: [UInt8], owner requester: String, timeMs: Int64, source: String, clientID: String) throws -> CentralOutcome<CentralCopy> {
        try db.transaction {
            guard let record = try loadRecord(recordID), case let access = try self.access(record, by: requester, atMs: timeMs), access.knowsRecord else {
                try appendAudit(kind: .centralRefused, user: requester, recordID: recordID, timeMs: timeMs,
                                detail: Self.noSuchRecordReason, source: source, clientID: clientID)
                return .notFound
            }
            let refusal: Refusal?
            if case .ended(let ended) = access {
                refusal = ended
            } else if record.ownerLocked {
                refusal = .accountLocked
            } else if record.wrappedKey == nil {
                refusal = .keyDestroyed
            } else {
                refusal = nil
            }
            guard refusal == nil, var copy = try centralCopy(recordID) else {
                let why = refusal ?? .noCentralCopy
                try appendAudit(kind: .centralRefused, user: requester, recordID: recordID, fileName: record.fileName, timeMs: timeMs,
                                detail: Self.grantDetail(record, access, "download: " + why.reason), source: source, clientID: clientID)
                return .refused(why)
            }
            copy.auditIndex = try appendAudit(kind: .centralDownload, user: requester, recordID: recordID, fileName: record.fileName, timeMs: timeMs,
                                              detail: Self.grantDetail(record, access, Self.describe(copy)), source: source, clientID: clientID)
            return .done(copy)
        }
    }

    /// Up to `length` bytes of the central copy `blobID` of a record the requester may read at
    /// `timeMs` (theirs, or shared with them): a grant revoked during a download stops it.
    public func readCentral(recordID: [UInt8], owner requester: String, blobID: String, offset: Int64, length: Int, timeMs: Int64) throws -> CentralOutcome<[UInt8]> {
        guard let record = try loadRecord(recordID) else { return .notFound }
        let access = try access(record, by: requester, atMs: timeMs)
        if case .ended(let refusal) = access { return .refused(refusal) }
        guard access.allowed else { return .notFound }
        let rows = try db.query("SELECT blob_id, size FROM central_copies WHERE record_id = $1", [.blob(recordID)])
        guard let row = rows.first else { return .notFound }
        guard try row.text(0) == blobID else { return .refused(.centralCopyReplaced) }
        let size = try row.int(1)
        guard offset >= 0, offset <= size else { return .done([]) }
        guard let bytes = try blobs.read(blob: blobID, offset: offset, length: Int(min(Int64(length), size - offset))) else {
            throw StorageError(.blobs, "the central copy \(blobID) is named by a record but missing from the \(blobs.kind) store")
        }
        return .done(bytes)
    }

    /// The record's central copy, if any.
    func centralCopy(_ recordID: [UInt8]) throws -> CentralCopy? {
        let rows = try db.query(
            "SELECT blob_id, sha256, size, generation, receipt_signature, updated_at_ms FROM central_copies WHERE record_id = $1",
            [.blob(recordID)]
        )
        guard let r = rows.first else { return nil }
        return CentralCopy(recordID: recordID, blobID: try r.text(0), sha256: try r.blob(1), size: try r.int(2),
                           generation: try r.int(3), receiptSignature: try r.blob(4), updatedAtMs: try r.int(5))
    }

    /// Inside a delete's transaction: forgets the record's central copy and audits it; its bytes go
    /// once the transaction committed.
    func forgetCentralCopy(_ record: RecordRow, timeMs: Int64, source: String, clientID: String) throws {
        guard let copy = try centralCopy(record.id) else { return }
        try db.query("DELETE FROM central_copies WHERE record_id = $1", [.blob(record.id)])
        try appendAudit(kind: .centralDelete, user: record.owner, recordID: record.id, fileName: record.fileName, timeMs: timeMs,
                        detail: "the central copy was destroyed with the record: " + Self.describe(copy), source: source, clientID: clientID)
        blobsToRemove.append(copy.blobID)
    }

    /// Removes the blobs that committed changes stopped naming, unless a record names them again
    /// (a change rolled back): the bytes of a copy go only after the commit that let go of them.
    /// The database tier calls this after each batch it committed; a store method called outside
    /// any transaction does it itself.
    public func removeUnnamedBlobs() throws {
        let candidates = blobsToRemove
        blobsToRemove = []
        for blob in Set(candidates) {
            let named = try db.query("SELECT 1 FROM central_copies WHERE blob_id = $1 LIMIT 1", [.text(blob)])
            if named.isEmpty { try blobs.delete(blob: blob) }
        }
    }

    /// Removes blobs that no record names and that were published at least `ageMs` ago: what a
    /// crash between publishing a folder blob and the commit that would have named it, or a commit
    /// that rolled back, left behind. The age keeps it clear of a commit in progress. Run between
    /// transactions (the database tier does at start and every hour).
    ///
    /// - Returns: How many were removed.
    @discardableResult
    public func sweepUnnamedBlobs(publishedAtLeast ageMs: Int64 = 3_600_000) throws -> Int {
        try blobs.removeUnnamed(named: { Set(try db.query("SELECT blob_id FROM central_copies", []).map { try $0.text(0) }) },
                                publishedAtLeast: ageMs)
    }

    /// Forgets the blobs to remove: the batch that let go of them did not commit.
    public func keepUnnamedBlobs() { blobsToRemove = [] }

    /// ``removeUnnamedBlobs()`` when no transaction is open any more, that is when the change
    /// committed; inside a batch, the database tier does it after the batch's commit.
    func removeUnnamedBlobsIfCommitted() throws {
        if !db.transactionCounts.open && !blobsToRemove.isEmpty { try removeUnnamedBlobs() }
    }

    /// Inside a transaction that makes another generation current without replacing the central
    /// copy: the copy, sealed under the generation whose key is being destroyed, would never open
    /// again, so it is dropped (audited) rather than kept broken.
    func dropStaleCentralCopy(_ record: RecordRow, by actor: String, timeMs: Int64, source: String, clientID: String) throws {
        guard let copy = try centralCopy(record.id) else { return }
        try db.query("DELETE FROM central_copies WHERE record_id = $1", [.blob(record.id)])
        try appendAudit(kind: .centralDelete, user: actor, recordID: record.id, fileName: record.fileName, timeMs: timeMs,
                        detail: "the record was re-sealed without replacing its central copy, whose key is destroyed, so the copy was dropped: "
                            + Self.describe(copy) + "; push the re-sealed container to keep one",
                        source: source, clientID: clientID)
        blobsToRemove.append(copy.blobID)
    }

    /// Drops uploads that stopped more than ``uploadRetentionMs`` ago.
    public func forgetStoppedUploads(nowMs: Int64) throws {
        let stopped = try db.query("SELECT upload_id FROM central_uploads WHERE started_at_ms < $1", [.int(nowMs - Self.uploadRetentionMs)])
        for row in stopped {
            let upload = try row.text(0)
            try blobs.discard(upload: upload)
            try db.query("DELETE FROM central_uploads WHERE upload_id = $1", [.text(upload)])
            uploadDigests[upload] = nil
        }
    }

    /// A central copy in the audit entry's detail: generation, size and SHA-256.
    static func describe(_ copy: CentralCopy) -> String {
        "generation \(copy.generation), \(copy.size) bytes, SHA-256 \(AuditLeaf.hex(copy.sha256))"
    }
}
