import CofferStorage
import CofferWire

/// `ConfirmReseal`: the staged generation becomes current and the old decode key is destroyed,
/// audited as `reseal` and `key_destroyed`. Confirming the current receipt again changes nothing.
enum ConfirmReseal: DatabaseOperation {
    static let touches = "records, retired receipts, stored replies, the audit log"

    static func answer(_ m: Coffer_Wire_V1_ConfirmReseal, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        Answers.change(request, try context.store.confirmReseal(recordID: Array(m.recordID), owner: m.owner, receiptSignature: Array(m.receiptSignature),
                                                                timeMs: m.timeUnixMs, source: m.source, clientID: m.clientID))
    }
}
