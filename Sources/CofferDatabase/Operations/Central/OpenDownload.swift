import CofferStorage
import CofferWire
import Foundation

/// `OpenDownload`: the record's central copy, audited as `central_download` before any byte leaves.
enum OpenDownload: DatabaseOperation {
    static let touches = "records, users (the lock), central copies, the audit log"

    static func answer(_ m: Coffer_Wire_V1_OpenDownload, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard m.recordID.count == 16, !m.owner.isEmpty else {
            return WireProtocol.error(to: request, .badRequest, "a download needs a 16-byte record id and an owner")
        }
        let outcome = try context.store.openDownload(recordID: Array(m.recordID), owner: m.owner, timeMs: m.timeUnixMs, source: m.source, clientID: m.clientID)
        return Answers.central(request, outcome, missing: "no such record") { .centralCopy(Answers.central($0)) }
    }
}
