import CofferStorage
import CofferWire

/// `ListAuditEntries`: a page of the whole log, for an operator's export.
enum ListAuditEntries: DatabaseOperation {
    static let touches = "the audit log"

    static func answer(_ m: Coffer_Wire_V1_ListAuditEntries, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        var entries = Coffer_Wire_V1_AuditEntries()
        entries.events = try context.store.auditEntries(from: max(0, m.fromIndex), limit: m.limit == 0 ? RecordStore.maxAuditBatch : Int(m.limit)).map(Answers.event)
        entries.treeSize = try context.store.auditTreeHead().size
        return WireProtocol.response(to: request, .auditEntries(entries))
    }
}
