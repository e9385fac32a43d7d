import CofferStorage
import CofferWire

/// `ListHistory`: the owner's audit history, or one of their record's, oldest first.
enum ListHistory: DatabaseOperation {
    static let touches = "the audit log, records (ownership), users (the lock)"

    static func answer(_ m: Coffer_Wire_V1_ListHistory, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        if let locked = try Answers.lockedRefusal(request, owner: m.owner, context.store) { return locked }
        let limit = m.limit == 0 ? OperationContext.maxItems : min(Int(m.limit), OperationContext.maxItems)
        guard let entries = try context.store.history(owner: m.owner, recordID: m.recordID.isEmpty ? nil : Array(m.recordID), limit: limit) else {
            return WireProtocol.error(to: request, .notFound, "no such record")
        }
        var history = Coffer_Wire_V1_History()
        history.events = entries.map(Answers.event)
        return WireProtocol.response(to: request, .history(history))
    }
}
