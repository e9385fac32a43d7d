import CofferStorage
import CofferWire

/// `DeleteRecord`: destroys every decode key of the record (crypto-shredding), audited as `delete`
/// and `key_destroyed`.
enum DeleteRecord: DatabaseOperation {
    static let touches = "records, users (the lock), stored replies, the audit log"

    static func answer(_ m: Coffer_Wire_V1_DeleteRecord, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        Answers.change(request, try context.store.deleteRecord(recordID: Array(m.recordID), owner: m.owner, receiptSignature: Array(m.receiptSignature),
                                                               timeMs: m.timeUnixMs, source: m.source, clientID: m.clientID))
    }
}
