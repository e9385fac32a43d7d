import CofferStorage
import CofferWire
import Foundation

/// `CreateRecord`: a save — the record with its wrapped decode key and receipt, audited as `save` —
/// or, for a save sent again under the client's request id, the record the first one made.
enum CreateRecord: DatabaseOperation {
    static let touches = "records, users (the lock), the audit log"

    static func answer(_ m: Coffer_Wire_V1_CreateRecord, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard let record = record(m) else {
            return WireProtocol.error(to: request, .badRequest, "a record needs a 16-byte id, a SHA-256, an owner and a wrapped key, and a client request id 16 bytes with a 65-byte encode key")
        }
        let store = context.store
        let clientRequestID = record.clientRequestID
        // The insert comes first, so that a save costs no lookup: only a save the unique (owner,
        // client request id) refuses is looked up, made before by this database process or by
        // another one a moment ago, or sent again after an operator locked the owner.
        func madeBefore() throws -> WireResponse? {
            guard let clientRequestID, let earlier = try store.earlierSave(owner: m.owner, clientRequestID: clientRequestID) else { return nil }
            return Self.earlierSave(request, earlier, m)
        }
        let created: Int64?
        do {
            created = try store.createRecord(record, source: m.source, clientID: m.clientID)
        } catch let error as StorageError where error.code == .locked {
            if let answer = try madeBefore() { return answer }
            throw error
        }
        guard let index = created else {
            return try madeBefore() ?? WireProtocol.error(to: request, .conflict, "the record id is taken or the owner does not exist")
        }
        return Answers.audited(request, index, missing: "")
    }

    /// The plain save in one round trip on PostgreSQL (``RecordStore/saveInOneCall(_:reply:)``).
    static func answerInOneCall(_ m: Coffer_Wire_V1_CreateRecord, to request: WireRequest, _ call: OneCallContext) throws -> [UInt8]? {
        guard let record = record(m) else { return nil }
        let save = RecordStore.OneCallSave(
            requestID: Array(request.requestID), nowMs: call.nowMs, nonce: call.nonce, nonceRetentionMs: call.nonceRetentionMs,
            record: record, source: m.source, clientID: m.clientID
        )
        var reply: [UInt8] = []
        guard try call.store.saveInOneCall(save, reply: { index in
            reply = try WireProtocol.encode(Answers.audited(request, index, missing: ""))
            return reply
        }) != nil else { return nil }
        return reply
    }

    /// The record a well-formed request describes, or `nil`.
    private static func record(_ m: Coffer_Wire_V1_CreateRecord) -> StoredRecord? {
        guard m.recordID.count == 16, m.sha256.count == 32, !m.wrappedDecodeKey.isEmpty, !m.owner.isEmpty,
              m.clientRequestID.isEmpty || (m.clientRequestID.count == 16 && m.encodeKey.count == 65)
        else { return nil }
        let clientRequestID = m.clientRequestID.isEmpty ? nil : Array(m.clientRequestID)
        return StoredRecord(
            id: Array(m.recordID), owner: m.owner, fileName: m.fileName, sha256: Array(m.sha256), size: m.size,
            createdAtMs: m.timeUnixMs, encodeKeyID: Array(m.encodeKeyID), wrappedDecodeKey: Array(m.wrappedDecodeKey),
            receipt: Array(m.receipt), receiptSignature: Array(m.receiptSignature),
            clientRequestID: clientRequestID, encodeKey: clientRequestID == nil ? nil : Array(m.encodeKey)
        )
    }

    /// The answer to a save sent again: the record the first one made, if it was the same file.
    private static func earlierSave(_ request: WireRequest, _ earlier: RecordStore.EarlierSave, _ m: Coffer_Wire_V1_CreateRecord) -> WireResponse {
        guard earlier.fileName == m.fileName, earlier.sha256 == Array(m.sha256), earlier.size == m.size else {
            return WireProtocol.error(to: request, .conflict, "this save's request id was used for another file")
        }
        guard !earlier.deleted else {
            return WireProtocol.error(to: request, .conflict, "the record this save made was deleted since")
        }
        var created = Coffer_Wire_V1_RecordCreated()
        created.auditIndex = earlier.auditIndex
        created.recordID = Data(earlier.recordID)
        created.receipt = Data(earlier.receipt)
        created.encodeKey = Data(earlier.encodeKey)
        created.encodeKeyID = Data(earlier.encodeKeyID)
        return WireProtocol.response(to: request, .recordCreated(created))
    }
}
