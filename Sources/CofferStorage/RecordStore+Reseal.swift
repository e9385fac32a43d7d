import CofferAudit
/// A record's key generations as stored.
struct RecordRow {
    var id: [UInt8]
    var owner: String
    var fileName: String
    var sha256: [UInt8]
    var size: Int64
    var encodeKeyID: [UInt8]
    var wrappedKey: [UInt8]?
    var signature: [UInt8]
    var pendingWrappedKey: [UInt8]?
    var pendingEncodeKeyID: [UInt8]?
    var pendingReceipt: [UInt8]?
    var pendingSignature: [UInt8]?
    /// An operator locked the owner's account.
    var ownerLocked = false
}

/// The outcome of confirming a re-seal or deleting a record.
public enum RecordChange: Sendable, Hashable {
    /// Done and audited.
    case done
    /// The presented receipt is already the current one: nothing to do.
    case alreadyDone
    /// No record of this owner has this id.
    case notFound
    /// The request does not match the record.
    case refused(Refusal)
}

/// One of the owner's records, for `coffer list`.
public struct RecordSummary: Sendable, Hashable {
    public var id: [UInt8]
    public var fileName: String
    public var sha256: [UInt8]
    public var size: Int64
    public var createdAtMs: Int64
    public var resealedAtMs: Int64
    public var deleted: Bool
    /// Its central copy, if it has one.
    public var central: CentralCopy?
}

/// A record's next key generation as the transaction tier made it: the wrapped decode key, the
/// encode key id and the receipt, for the SHA-256 and size the receipt states.
public struct KeyGeneration: Sendable, Hashable {
    public var wrappedDecodeKey: [UInt8]
    public var encodeKeyID: [UInt8]
    public var receipt: [UInt8]
    public var receiptSignature: [UInt8]
    public var sha256: [UInt8]
    public var size: Int64

    public init(wrappedDecodeKey: [UInt8], encodeKeyID: [UInt8], receipt: [UInt8], receiptSignature: [UInt8], sha256: [UInt8], size: Int64) {
        self.wrappedDecodeKey = wrappedDecodeKey
        self.encodeKeyID = encodeKeyID
        self.receipt = receipt
        self.receiptSignature = receiptSignature
        self.sha256 = sha256
        self.size = size
    }
}

extension RecordStore {
    /// Stages the next key generation after a release; it becomes current when the client confirms.
    /// Returns `false` when the record is gone, deleted, or neither the requester's nor shared with
    /// them at `timeMs`.
    public func stageReseal(recordID: [UInt8], owner requester: String, wrappedDecodeKey: [UInt8], encodeKeyID: [UInt8], receipt: [UInt8],
                            receiptSignature: [UInt8], timeMs: Int64) throws -> Bool {
        try db.transaction {
            guard let record = try loadRecord(recordID), try access(record, by: requester, atMs: timeMs).allowed else { return false }
            try db.query(Self.stageNext, [.blob(recordID), .blob(wrappedDecodeKey), .blob(encodeKeyID), .blob(receipt), .blob(receiptSignature)])
            return try loadRecord(recordID)?.pendingSignature == receiptSignature
        }
    }

    /// Inside a release's transaction: stages `next` as the record's pending generation.
    func stage(_ next: KeyGeneration, recordID: [UInt8]) throws {
        try db.query(Self.stageNext, [
            .blob(recordID), .blob(next.wrappedDecodeKey), .blob(next.encodeKeyID), .blob(next.receipt), .blob(next.receiptSignature),
        ])
    }

    private static let stageNext = """
        UPDATE records SET pending_wrapped_decode_key = $2, pending_encode_key_id = $3, pending_receipt = $4,
            pending_receipt_signature = $5
        WHERE id = $1 AND wrapped_decode_key IS NOT NULL
        """

    /// Makes the staged generation current and destroys the old decode key, once the client has
    /// replaced its container. Idempotent: confirming the current receipt again changes nothing.
    ///
    /// A central copy, sealed under the key this destroys, is dropped with the confirmation
    /// (``dropStaleCentralCopy(_:by:timeMs:source:clientID:)``); clients confirm such a record by
    /// uploading the re-sealed container instead.
    ///
    /// The requester is the record's owner or a user it is shared with under a live grant.
    public func confirmReseal(recordID: [UInt8], owner requester: String, receiptSignature: [UInt8], timeMs: Int64, source: String, clientID: String) throws -> RecordChange {
        defer { try? removeUnnamedBlobsIfCommitted() }
        return try db.transaction {
            guard let record = try loadRecord(recordID) else { return .notFound }
            let access = try access(record, by: requester, atMs: timeMs)
            if case .ended(let refusal) = access { return .refused(refusal) }
            guard access.allowed else { return .notFound }
            if record.signature == receiptSignature, record.wrappedKey != nil { return .alreadyDone }
            guard record.pendingSignature == receiptSignature else {
                return .refused(.noResealWaiting)
            }
            try promotePending(record, by: requester, timeMs: timeMs, source: source, clientID: clientID,
                               how: Self.grantDetail(record, access, "confirmed by the client"))
            return .done
        }
    }

    /// Destroys a record's decode keys (crypto-shredding). The receipt must be the current or staged one.
    /// The record's central copy goes with it (`central_delete`); its bytes are removed after the commit.
    public func deleteRecord(recordID: [UInt8], owner: String, receiptSignature: [UInt8], timeMs: Int64, source: String, clientID: String) throws -> RecordChange {
        let change: RecordChange = try db.transaction {
            guard let record = try loadRecord(recordID), record.owner == owner else { return .notFound }
            guard !record.ownerLocked else { return .refused(.accountLocked) }
            guard record.wrappedKey != nil else { return .alreadyDone }
            guard record.signature == receiptSignature || record.pendingSignature == receiptSignature else {
                return .refused(.notCurrentReceipt)
            }
            try db.query(
                """
                UPDATE records SET wrapped_decode_key = NULL, pending_wrapped_decode_key = NULL, pending_encode_key_id = NULL,
                    pending_receipt = NULL, pending_receipt_signature = NULL WHERE id = $1
                """,
                [.blob(recordID)]
            )
            db.eraseOverwrittenOnCommit()
            try appendAudit(kind: .delete, user: owner, recordID: recordID, fileName: record.fileName, timeMs: timeMs, source: source, clientID: clientID)
            try appendAudit(kind: .keyDestroyed, user: owner, recordID: recordID, fileName: record.fileName, timeMs: timeMs,
                            detail: "deleted: every decode key of the record destroyed", source: source, clientID: clientID)
            try forgetCentralCopy(record, timeMs: timeMs, source: source, clientID: clientID)
            try forgetReplies(recordID: recordID)
            return .done
        }
        try removeUnnamedBlobsIfCommitted()
        return change
    }

    /// The owner's records, newest first.
    public func listRecords(owner: String, limit: Int) throws -> [RecordSummary] {
        try db.query(
            """
            SELECT r.id, r.file_name, r.sha256, r.size, r.created_at_ms, r.resealed_at_ms, r.wrapped_decode_key IS NULL,
                   \(CentralCopy.joinedColumns)
            FROM records r LEFT JOIN central_copies c ON c.record_id = r.id
            WHERE r.owner = $1 ORDER BY r.created_at_ms DESC LIMIT $2
            """,
            [.text(owner), .int(Int64(limit))]
        ).map { row in
            let id = try row.blob(0)
            return RecordSummary(id: id, fileName: try row.text(1), sha256: try row.blob(2), size: try row.int(3),
                                 createdAtMs: try row.int(4), resealedAtMs: try row.int(5), deleted: try row.int(6) != 0,
                                 central: try CentralCopy(row: row, at: 7, recordID: id))
        }
    }

    func loadRecord(_ id: [UInt8]) throws -> RecordRow? {
        let rows = try db.query(
            """
            SELECT owner, file_name, sha256, size, encode_key_id, wrapped_decode_key, receipt_signature,
                   pending_wrapped_decode_key, pending_encode_key_id, pending_receipt, pending_receipt_signature,
                   (SELECT locked FROM users WHERE name = records.owner)
            FROM records WHERE id = $1
            """,
            [.blob(id)]
        )
        guard let r = rows.first else { return nil }
        return RecordRow(
            id: id, owner: try r.text(0), fileName: try r.text(1), sha256: try r.blob(2), size: try r.int(3), encodeKeyID: try r.blob(4),
            wrappedKey: try r.optionalBlob(5), signature: try r.blob(6), pendingWrappedKey: try r.optionalBlob(7),
            pendingEncodeKeyID: try r.optionalBlob(8), pendingReceipt: try r.optionalBlob(9), pendingSignature: try r.optionalBlob(10),
            ownerLocked: try r.int(11) != 0
        )
    }

    func isRetired(_ recordID: [UInt8], _ signature: [UInt8]) throws -> Bool {
        try db.query("SELECT receipt_signature FROM retired_receipts WHERE record_id = $1", [.blob(recordID)])
            .contains { (try? $0.blob(0)) == signature }
    }

    /// Inside a transaction: the staged generation becomes current; the old key is overwritten.
    ///
    /// - Parameters:
    ///   - actor: Who confirmed it (the owner, or a grantee), under whose name it is audited.
    ///   - replacingCentralCopy: The caller replaces the central copy in the same transaction;
    ///     otherwise one sealed under the old generation is dropped.
    /// - Returns: The record as it now stands.
    @discardableResult
    func promotePending(_ record: RecordRow, by actor: String, timeMs: Int64, source: String, clientID: String, how: String,
                        replacingCentralCopy: Bool = false) throws -> RecordRow {
        guard let wrapped = record.pendingWrappedKey, let keyID = record.pendingEncodeKeyID,
              let receipt = record.pendingReceipt, let signature = record.pendingSignature
        else { return record }
        let recordID = record.id
        try db.query(
            "INSERT INTO retired_receipts (record_id, receipt_signature, retired_at_ms) VALUES ($1, $2, $3)",
            [.blob(recordID), .blob(record.signature), .int(timeMs)]
        )
        try db.query(
            """
            UPDATE records SET wrapped_decode_key = $2, encode_key_id = $3, receipt = $4, receipt_signature = $5,
                pending_wrapped_decode_key = NULL, pending_encode_key_id = NULL, pending_receipt = NULL,
                pending_receipt_signature = NULL, resealed_at_ms = $6
            WHERE id = $1
            """,
            [.blob(recordID), .blob(wrapped), .blob(keyID), .blob(receipt), .blob(signature), .int(timeMs)]
        )
        db.eraseOverwrittenOnCommit()
        try appendAudit(kind: .reseal, user: actor, recordID: recordID, fileName: record.fileName, timeMs: timeMs,
                        detail: how, source: source, clientID: clientID)
        try appendAudit(kind: .keyDestroyed, user: actor, recordID: recordID, fileName: record.fileName, timeMs: timeMs,
                        detail: "the previous decode key was destroyed after the re-seal", source: source, clientID: clientID)
        if !replacingCentralCopy { try dropStaleCentralCopy(record, by: actor, timeMs: timeMs, source: source, clientID: clientID) }
        try forgetReplies(recordID: recordID)
        var promoted = record
        promoted.wrappedKey = wrapped
        promoted.encodeKeyID = keyID
        promoted.signature = signature
        promoted.pendingWrappedKey = nil
        promoted.pendingEncodeKeyID = nil
        promoted.pendingReceipt = nil
        promoted.pendingSignature = nil
        return promoted
    }
}
