import CofferAudit

extension RecordStore {
    /// A save as one call makes it: the request's ids and replay guard, and the record.
    public struct OneCallSave: Sendable {
        /// A replay guard the request carries, already checked for shape.
        public struct Nonce: Sendable {
            public var clientID: String
            public var nonce: [UInt8]
            public var timeMs: Int64
            /// The session the request runs under, when it names one.
            public var session: (user: String, issuedMs: Int64)?

            public init(clientID: String, nonce: [UInt8], timeMs: Int64, session: (user: String, issuedMs: Int64)?) {
                self.clientID = clientID
                self.nonce = nonce
                self.timeMs = timeMs
                self.session = session
            }
        }

        public var requestID: [UInt8]
        public var nowMs: Int64
        public var nonce: Nonce?
        /// How long nonces are remembered: an older one may be taken anew.
        public var nonceRetentionMs: Int64
        public var record: StoredRecord
        public var source: String
        public var clientID: String

        public init(requestID: [UInt8], nowMs: Int64, nonce: Nonce?, nonceRetentionMs: Int64, record: StoredRecord, source: String, clientID: String) {
            self.requestID = requestID
            self.nowMs = nowMs
            self.nonce = nonce
            self.nonceRetentionMs = nonceRetentionMs
            self.record = record
            self.source = source
            self.clientID = clientID
        }
    }

    /// Makes a save in one round trip to PostgreSQL when it is the plain case (``OneCallSaveFunction``):
    /// the claim of its request id with `reply(index)` as the stored reply, the nonce, the record, and
    /// its `save` entry at `index` with the subtree hashes, all written by one function call.
    ///
    /// Inside a batch that holds the audit lock it runs in the batch's transaction; alone, in a
    /// transaction of its own that takes the lock first.
    ///
    /// - Returns: The save's audit index, or `nil` when the store is not PostgreSQL or the save is not
    ///   the plain case: then nothing was written, and the general path must answer the request.
    public func saveInOneCall(_ save: OneCallSave, reply: (Int64) throws -> [UInt8]) throws -> Int64? {
        guard db.dialect == .postgres, oneCallSaves else { return nil }
        func body() throws -> Int64? {
            let log = self.auditLog
            let record = save.record
            let entry = try AuditLog.auditFailure {
                try log.prepare(AuditEvent(
                    kind: AuditKind.save.rawValue, user: record.owner, recordID: record.id, fileName: record.fileName,
                    timeMs: record.createdAtMs, source: save.source, clientID: save.clientID
                ))
            }
            guard Self.nodesFollowTheLeaf(entry) else { return nil }
            let nonce = save.nonce
            let made = try self.db.query(Self.callSave, [
                .blob(save.requestID), .int(save.nowMs),
                nonce.map { .text($0.clientID) } ?? .null, nonce.map { .blob($0.nonce) } ?? .null,
                .int(nonce?.timeMs ?? 0), .int((nonce?.timeMs ?? 0) - save.nonceRetentionMs),
                .text(nonce?.session?.user ?? ""), .int(nonce?.session?.issuedMs ?? Int64.max),
                .blob(record.id), .text(record.owner), .text(record.fileName), .blob(record.sha256), .int(record.size),
                .int(record.createdAtMs), .blob(record.encodeKeyID), .blob(record.wrappedDecodeKey), .blob(record.receipt),
                .blob(record.receiptSignature), record.clientRequestID.map(SQLValue.blob) ?? .null,
                record.encodeKey.map(SQLValue.blob) ?? .null,
                .int(entry.index), .text(save.source), .text(save.clientID), .blob(entry.leaf),
                .blob(entry.nodes.flatMap(\.1)), .blob(try reply(entry.index)),
            ])
            guard try made.first?.int(0) == 1 else { return nil }
            log.written(entry)
            auditAppends += 1
            return entry.index
        }
        return try auditLockHeld ? body() : transaction(holdingAuditLock: true, body)
    }

    /// Whether `entry`'s subtree hashes are the ones the function derives from the index alone:
    /// level `l` closes subtree `index >> l`, every level from the leaf up once.
    private static func nodesFollowTheLeaf(_ entry: PreparedAppend) -> Bool {
        entry.nodes.enumerated().allSatisfy { level, node in
            node.0.level == level && node.0.index == entry.index >> level && node.1.count == 32
        }
    }

    private static let callSave = """
        SELECT coffer_save_v1($1::bytea, $2::bigint, $3::text, $4::bytea, $5::bigint, $6::bigint, $7::text, $8::bigint,
                              $9::bytea, $10::text, $11::text, $12::bytea, $13::bigint, $14::bigint, $15::bytea, $16::bytea,
                              $17::bytea, $18::bytea, $19::bytea, $20::bytea, $21::bigint, $22::text, $23::text, $24::bytea,
                              $25::bytea, $26::bytea)
        """
}
