import CofferStorage
import CofferWire

/// `UnshareRecord`: the owner ends a grant at once; audited as `unshare`.
enum UnshareRecord: DatabaseOperation {
    static let touches = "records, grants, stored replies of the record, the audit log"

    static func answer(_ m: Coffer_Wire_V1_UnshareRecord, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard m.recordID.count == 16, !m.owner.isEmpty, !m.grantee.isEmpty else {
            return WireProtocol.error(to: request, .badRequest, "an unshare needs a 16-byte record id, an owner and a grantee")
        }
        let outcome = try context.store.unshareRecord(
            recordID: Array(m.recordID), owner: m.owner, grantee: m.grantee, timeMs: m.timeUnixMs, source: m.source, clientID: m.clientID
        )
        return Answers.grant(request, outcome)
    }
}
