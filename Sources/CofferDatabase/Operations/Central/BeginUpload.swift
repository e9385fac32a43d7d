import CofferStorage
import CofferWire
import Foundation

/// `BeginUpload`: checks an announced central copy against the record, its receipt and the owner's
/// quota, and opens or resumes its upload; refusals are audited as `central_refused`.
enum BeginUpload: DatabaseOperation {
    static let touches = "records, users (the lock), retired receipts, central copies and uploads, the blob store, the audit log"

    static func answer(_ m: Coffer_Wire_V1_BeginUpload, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard m.recordID.count == 16, !m.owner.isEmpty, m.sha256.count == 32, m.size > 0, !m.receiptSignature.isEmpty else {
            return WireProtocol.error(to: request, .badRequest, "an upload needs a 16-byte record id, an owner, a SHA-256, a size above 0 and a receipt signature")
        }
        let outcome = try context.store.beginUpload(
            recordID: Array(m.recordID), owner: m.owner, sha256: Array(m.sha256), size: m.size,
            receiptSignature: Array(m.receiptSignature), timeMs: m.timeUnixMs, source: m.source, clientID: m.clientID
        )
        var ready = Coffer_Wire_V1_UploadReady()
        switch outcome {
        case .ready(let upload, let received):
            ready.uploadID = upload
            ready.received = received
        case .alreadyCurrent(let copy):
            ready.alreadyCurrent = true
            ready.received = copy.size
            ready.current = Answers.central(copy)
        case .notFound:
            return WireProtocol.error(to: request, .notFound, "no such record")
        case .refused(let refusal):
            return Answers.refusal(request, refusal)
        }
        return WireProtocol.response(to: request, .uploadReady(ready))
    }
}
