import CofferAudit
import CofferDigest
import Foundation

/// Everything the database tier stores, over SQLite or PostgreSQL.
///
/// Each operation is one transaction, and every change commits together with its audit entry.
public final class RecordStore {
    let db: any SQLConnection
    /// Whether the current transaction took the audit append lock at its start.
    var auditLockHeld = false
    /// The schema version in force.
    public let schemaVersion: Int
    /// The audit log's size and right edge as this store last wrote them.
    let auditFrontier = AuditFrontier()
    /// Whether a plain save on PostgreSQL is made in one call (``saveInOneCall(_:reply:)``); off,
    /// every save takes the general path (for tests of that path, and for measuring one against the other).
    public var oneCallSaves = true
    /// Where central copies' bytes are kept.
    public let blobs: any BlobStore
    /// How much each account may keep centrally.
    public var centralQuota = CentralQuota()
    /// The SHA-256 so far of each upload whose chunks this store received in order.
    var uploadDigests: [String: ContentDigest] = [:]
    /// Blobs a change stopped naming, removed once that change committed (``removeUnnamedBlobs()``).
    var blobsToRemove: [String] = []
    /// Audit entries this store appended, committed or not: for metrics (the database tier counts
    /// those of the batches that committed).
    public internal(set) var auditAppends: Int64 = 0

    /// Wraps an open connection and brings its schema up to date.
    ///
    /// - Parameter blobs: Where central copies' bytes go; by default chunks in the database's own
    ///   `blob_chunks` table (``TableBlobStore``).
    public init(connection: any SQLConnection, blobs: (any BlobStore)? = nil) throws {
        self.db = connection
        self.schemaVersion = try Migrations.run(on: connection)
        self.blobs = blobs ?? TableBlobStore(connection: connection)
    }

    /// Runs `body` in one transaction that commits durably before this returns. Store operations
    /// inside it nest as savepoints: a failing one rolls back alone, and all the others commit
    /// together (the database tier's group commit).
    ///
    /// - Parameter holdingAuditLock: Take the audit log's append lock first, for the whole
    ///   transaction, instead of at each append (the batch appends anyway).
    public func transaction<T>(holdingAuditLock: Bool = false, _ body: () throws -> T) throws -> T {
        try db.transaction {
            guard holdingAuditLock, db.dialect == .postgres, !auditLockHeld else { return try body() }
            try db.query("SELECT pg_advisory_xact_lock($1)", [.int(AuditLog.appendLock)])
            auditLockHeld = true
            defer { auditLockHeld = false }
            return try body()
        }
    }

    /// The audit log's size as this store last appended to or read it, when known: for metrics,
    /// not for decisions (another process may have appended since).
    public var knownAuditLogSize: Int64? { auditFrontier.knownSize }

    /// `sqlite` or `postgresql`.
    public var storeName: String { db.dialect == .sqlite ? "sqlite" : "postgresql" }

    /// Stores a new record and audits the save, in one transaction.
    ///
    /// - Returns: The audit index, or `nil` when the owner does not exist or the id is taken.
    public func createRecord(_ record: StoredRecord, source: String, clientID: String = "") throws -> Int64? {
        do {
            return try db.transaction {
                // One statement: the insert happens only if no operator locked the owner.
                let inserted = try db.query(
                    db.dialect == .postgres ? Self.insertRecordPostgres : Self.insertRecordSQLite,
                    [
                        .blob(record.id), .text(record.owner), .text(record.fileName), .blob(record.sha256),
                        .int(record.size), .int(record.createdAtMs), .blob(record.encodeKeyID),
                        .blob(record.wrappedDecodeKey), .blob(record.receipt), .blob(record.receiptSignature),
                        record.clientRequestID.map(SQLValue.blob) ?? .null, record.encodeKey.map(SQLValue.blob) ?? .null,
                    ]
                )
                guard !inserted.isEmpty else { throw StorageError(.locked, Refusal.accountLocked.reason) }
                return try appendAudit(
                    kind: .save, user: record.owner, recordID: record.id, fileName: record.fileName,
                    timeMs: record.createdAtMs, source: source, clientID: clientID
                )
            }
        } catch let error as StorageError where error.code == .constraint {
            return nil
        }
    }

    private static let insertRecordSQLite = """
        INSERT INTO records (id, owner, file_name, sha256, size, created_at_ms, encode_key_id, wrapped_decode_key, receipt, receipt_signature,
                             client_request_id, encode_key)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 WHERE NOT EXISTS (SELECT 1 FROM users WHERE name = $2 AND locked)
        RETURNING 1
        """
    private static let insertRecordPostgres = """
        INSERT INTO records (id, owner, file_name, sha256, size, created_at_ms, encode_key_id, wrapped_decode_key, receipt, receipt_signature,
                             client_request_id, encode_key)
        SELECT $1::bytea, $2::text, $3::text, $4::bytea, $5::bigint, $6::bigint, $7::bytea, $8::bytea, $9::bytea, $10::bytea, $11::bytea, $12::bytea
        WHERE NOT EXISTS (SELECT 1 FROM users WHERE name = $2::text AND locked)
        RETURNING 1
        """

    /// What an earlier save of `owner` with the client request id `clientRequestID` made.
    public struct EarlierSave: Sendable, Hashable {
        public var recordID: [UInt8]
        public var fileName: String
        public var sha256: [UInt8]
        public var size: Int64
        public var receipt: [UInt8]
        public var encodeKey: [UInt8]
        public var encodeKeyID: [UInt8]
        /// Whether its decode keys were destroyed since.
        public var deleted: Bool
        /// The index of its `save` entry.
        public var auditIndex: Int64
    }

    /// The record an earlier save of `owner` made under `clientRequestID`, if any.
    public func earlierSave(owner: String, clientRequestID: [UInt8]) throws -> EarlierSave? {
        let rows = try db.query(
            """
            SELECT id, file_name, sha256, size, receipt, encode_key, encode_key_id, wrapped_decode_key IS NULL,
                   (SELECT MIN(idx) FROM audit_log WHERE audit_log.record_id = records.id AND kind = 'save')
            FROM records WHERE owner = $1 AND client_request_id = $2
            """,
            [.text(owner), .blob(clientRequestID)]
        )
        guard let r = rows.first else { return nil }
        return EarlierSave(
            recordID: try r.blob(0), fileName: try r.text(1), sha256: try r.blob(2), size: try r.int(3), receipt: try r.blob(4),
            encodeKey: try r.optionalBlob(5) ?? [], encodeKeyID: try r.blob(6), deleted: try r.int(7) != 0, auditIndex: try r.int(8)
        )
    }

    /// Checks a retrieve request against the stored record and audits the outcome durably before
    /// returning: the wrapped decode key leaves only after its `retrieve` entry is committed.
    ///
    /// The presented receipt may be the current one or the staged re-seal's; the latter confirms the
    /// re-seal first (the client replaced its container but died before confirming) — unless the
    /// record has a central copy, sealed under the current generation: then the staged key is
    /// released without confirming anything, and the client's upload of its fresh re-seal does.
    ///
    /// The audit entry carries what the store knows, never what the request claims: the stored file
    /// name for a record the requester may know of, and no file name at all for one they may not (a
    /// crafted container must not write its text into the victim's permanent history).
    ///
    /// `requester` is the record's owner or a user it is shared with under a live grant
    /// (``shareRecord(recordID:owner:grantee:expiresAtMs:timeMs:source:clientID:)``); their
    /// entries are theirs, and the owner sees them in their history. A requester whose grant ended
    /// is refused with ``Refusal/grantEnded(_:)``.
    ///
    /// A `next` generation made for the record's SHA-256 and size is staged in the same transaction
    /// as the release (``ReleasedKey/nextStaged``) when the requester is the owner, for whom the
    /// transaction tier made it; one made for other values is not.
    public func releaseKey(
        recordID: [UInt8], owner requester: String, fileName: String, receiptSignature: [UInt8], timeMs: Int64, source: String,
        clientID: String = "", next: KeyGeneration? = nil
    ) throws -> KeyRelease {
        defer { try? removeUnnamedBlobsIfCommitted() }
        return try db.transaction {
            let outcome: KeyRelease
            let stored = try loadRecord(recordID)
            let access = try stored.map { try self.access($0, by: requester, atMs: timeMs) } ?? .none
            if let record = stored, access.allowed, record.ownerLocked {
                outcome = .refused(.accountLocked)
            } else if case .ended(let refusal) = access {
                outcome = .refused(refusal)
            } else if let record = stored, access.allowed {
                var current = record
                // A container re-sealed under the staged generation whose upload as the central copy
                // did not happen: confirming its re-seal here would destroy the key the central copy
                // is sealed under. Its (staged) key is released instead; the client re-seals it
                // afresh and confirms by uploading, which replaces the central copy in the same commit.
                var stagedForCentral = false
                if let pending = record.pendingSignature, pending == receiptSignature {
                    if try centralCopy(recordID) != nil {
                        stagedForCentral = true
                    } else {
                        current = try promotePending(record, by: requester, timeMs: timeMs, source: source, clientID: clientID,
                                                     how: Self.grantDetail(record, access, "confirmed by a retrieve of the re-sealed container"))
                    }
                }
                if current.fileName != fileName {
                    outcome = .refused(.fileNameMismatch)
                } else if stagedForCentral, let wrapped = current.pendingWrappedKey, let keyID = current.pendingEncodeKeyID {
                    outcome = .released(ReleasedKey(wrappedDecodeKey: wrapped, encodeKeyID: keyID, sha256: current.sha256,
                                                    size: current.size, auditIndex: 0, owner: current.owner))
                } else if current.signature == receiptSignature, let wrapped = current.wrappedKey {
                    outcome = .released(ReleasedKey(wrappedDecodeKey: wrapped, encodeKeyID: current.encodeKeyID, sha256: current.sha256,
                                                    size: current.size, auditIndex: 0, owner: current.owner))
                } else if current.signature == receiptSignature || current.wrappedKey == nil {
                    outcome = .refused(.keyDestroyed)
                } else if try isRetired(recordID, receiptSignature) {
                    outcome = .refused(.oldCopy)
                } else {
                    outcome = .refused(.receiptMismatch)
                }
            } else {
                // Another owner's unshared record and a missing one look the same from outside, and
                // in the requester's history.
                outcome = .notFound
            }
            let knownName = access.knowsRecord ? stored?.fileName : nil
            let detail = { (text: String) in stored.map { Self.grantDetail($0, access, text) } ?? text }
            switch outcome {
            case .released(var key):
                key.hasCentral = try centralCopy(recordID) != nil
                key.auditIndex = try appendAudit(kind: .retrieve, user: requester, recordID: recordID, fileName: knownName, timeMs: timeMs,
                                                 detail: detail(""), source: source, clientID: clientID)
                if access == .owner, let next, next.sha256 == key.sha256, next.size == key.size {
                    try stage(next, recordID: recordID)
                    key.nextStaged = true
                }
                return .released(key)
            case .refused(let refusal):
                try appendAudit(kind: .retrieveRefused, user: requester, recordID: recordID, fileName: knownName, timeMs: timeMs,
                                detail: detail(refusal.reason), source: source, clientID: clientID)
                return outcome
            case .notFound:
                try appendAudit(kind: .retrieveRefused, user: requester, recordID: recordID, timeMs: timeMs, detail: Self.noSuchRecordReason, source: source, clientID: clientID)
                return outcome
            }
        }
    }

    /// Why a key release for a record that is not the requester's was refused: missing and another
    /// owner's alike.
    public static let noSuchRecordReason = "no record with this id belongs to the requester"

    /// The audit history of `user`: all of it, or one record's. It holds the user's own entries
    /// and, on each record they ever shared, everyone's: what grantees did under the grant.
    ///
    /// - Returns: `nil` when `recordID` is given and is neither a record of `user` nor one shared
    ///   with them (ever: a grantee keeps seeing their own entries of a record after the grant ended).
    public func history(owner user: String, recordID: [UInt8]?, limit: Int) throws -> [AuditEntry]? {
        let rows: [SQLRow]
        if let recordID {
            let owned = try db.query("SELECT 1 FROM records WHERE id = $1 AND owner = $2", [.blob(recordID), .text(user)])
            let granted = owned.isEmpty
                ? try db.query("SELECT 1 FROM grants WHERE record_id = $1 AND grantee = $2", [.blob(recordID), .text(user)]) : []
            guard !owned.isEmpty || !granted.isEmpty else { return nil }
            rows = try db.query(
                """
                SELECT \(AuditLog.entryColumns) FROM audit_log
                WHERE record_id = $1 AND (user_name = $2 OR EXISTS (SELECT 1 FROM grants WHERE record_id = $1 AND owner = $2))
                ORDER BY idx DESC LIMIT $3
                """,
                [.blob(recordID), .text(user), .int(Int64(limit))]
            )
        } else {
            rows = try db.query(
                """
                SELECT \(AuditLog.entryColumns) FROM audit_log
                WHERE user_name = $1 OR record_id IN (SELECT record_id FROM grants WHERE owner = $1)
                ORDER BY idx DESC LIMIT $2
                """,
                [.text(user), .int(Int64(limit))]
            )
        }
        return try rows.reversed().map(AuditLog.entry)
    }

    /// The audit log inside the current transaction.
    var auditLog: AuditLog { AuditLog(db, lockHeld: auditLockHeld, frontier: auditFrontier) }

    @discardableResult
    func appendAudit(
        kind: AuditKind, user: String, recordID: [UInt8]? = nil, fileName: String? = nil,
        timeMs: Int64, detail: String = "", source: String, clientID: String = ""
    ) throws -> Int64 {
        let index = try auditLog.append(AuditEvent(
            kind: kind.rawValue, user: user, recordID: recordID, fileName: fileName, timeMs: timeMs, detail: detail, source: source, clientID: clientID
        ))
        auditAppends += 1
        return index
    }
}
