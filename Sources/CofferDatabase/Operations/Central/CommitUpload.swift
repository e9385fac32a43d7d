import CofferStorage
import CofferWire
import Foundation

/// `CommitUpload`: checks the staged upload's size and SHA-256 and makes it the record's central
/// copy, audited as `central_upload` or `central_replace` (and, under the staged re-seal's receipt,
/// `reseal` and `key_destroyed`).
enum CommitUpload: DatabaseOperation {
    static let touches = "central uploads and copies, records, retired receipts, the blob store, stored replies, the audit log"

    static func answer(_ m: Coffer_Wire_V1_CommitUpload, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard !m.uploadID.isEmpty, !m.owner.isEmpty else {
            return WireProtocol.error(to: request, .badRequest, "a commit needs an upload id and an owner")
        }
        let outcome = try context.store.commitUpload(uploadID: m.uploadID, owner: m.owner, timeMs: m.timeUnixMs, source: m.source, clientID: m.clientID)
        return Answers.central(request, outcome, missing: "no such upload") { .centralCopy(Answers.central($0)) }
    }
}
