import CofferStorage
import CofferWire

/// `StageReseal`: the record's next key generation, waiting until the client confirms the
/// re-sealed container. Audits nothing: the confirmation does.
enum StageReseal: DatabaseOperation {
    static let touches = "records, grants"

    static func answer(_ m: Coffer_Wire_V1_StageReseal, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard m.recordID.count == 16, !m.wrappedDecodeKey.isEmpty, !m.receiptSignature.isEmpty else {
            return WireProtocol.error(to: request, .badRequest, "a re-seal needs a record id, a wrapped key and a receipt")
        }
        guard try context.store.stageReseal(recordID: Array(m.recordID), owner: m.owner, wrappedDecodeKey: Array(m.wrappedDecodeKey),
                                            encodeKeyID: Array(m.encodeKeyID), receipt: Array(m.receipt), receiptSignature: Array(m.receiptSignature),
                                            timeMs: context.nowMs)
        else {
            return WireProtocol.error(to: request, .notFound, "no such record")
        }
        return WireProtocol.response(to: request, .ack(.init()))
    }
}
