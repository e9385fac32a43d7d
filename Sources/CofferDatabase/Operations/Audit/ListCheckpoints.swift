import CofferStorage
import CofferWire

/// `ListCheckpoints`: a page of the stored checkpoints, for an operator's export.
enum ListCheckpoints: DatabaseOperation {
    static let touches = "checkpoints"

    static func answer(_ m: Coffer_Wire_V1_ListCheckpoints, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        var list = Coffer_Wire_V1_Checkpoints()
        list.checkpoints = try context.store.checkpoints(after: m.afterSize, limit: m.limit == 0 ? RecordStore.maxAuditBatch : Int(m.limit)).map(Answers.checkpoint)
        return WireProtocol.response(to: request, .checkpoints(list))
    }
}
