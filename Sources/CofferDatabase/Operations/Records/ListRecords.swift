import CofferStorage
import CofferWire
import Foundation

/// `ListRecords`: the owner's records, newest first.
enum ListRecords: DatabaseOperation {
    static let touches = "records, central copies, users (the lock)"

    static func answer(_ m: Coffer_Wire_V1_ListRecords, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        if let locked = try Answers.lockedRefusal(request, owner: m.owner, context.store) { return locked }
        var records = Coffer_Wire_V1_Records()
        records.records = try context.store.listRecords(owner: m.owner, limit: OperationContext.maxItems).map { r in
            var summary = Coffer_Wire_V1_RecordSummary()
            summary.recordID = Data(r.id)
            summary.fileName = r.fileName
            summary.sha256 = Data(r.sha256)
            summary.size = r.size
            summary.createdUnixMs = r.createdAtMs
            summary.resealedUnixMs = r.resealedAtMs
            summary.deleted = r.deleted
            if let central = r.central { summary.central = Answers.central(central) }
            return summary
        }
        return WireProtocol.response(to: request, .records(records))
    }
}
