import CofferStorage
import CofferWire
import Foundation

/// `ReleaseKey`: checks the requester (owner or grantee), name and receipt against the stored record, audits the outcome
/// (`retrieve` or `retrieve_refused`), and only then returns the wrapped decode key; stages the
/// record's next key generation in the same transaction when the request brings one made for the
/// record's SHA-256 and size.
enum ReleaseKey: DatabaseOperation {
    static let touches = "records, users (the lock), grants, retired receipts, the audit log"

    static func carriedRecord(_ m: Coffer_Wire_V1_ReleaseKey) -> [UInt8]? { Array(m.recordID) }

    static func answer(_ m: Coffer_Wire_V1_ReleaseKey, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard m.recordID.count == 16, !m.owner.isEmpty else {
            return WireProtocol.error(to: request, .badRequest, "a key release needs a 16-byte record id and an owner")
        }
        let n = m.next
        guard !m.hasNext || (!n.wrappedDecodeKey.isEmpty && !n.receiptSignature.isEmpty && n.sha256.count == 32 && n.size >= 0) else {
            return WireProtocol.error(to: request, .badRequest, "a next key generation needs a wrapped key, a receipt, a SHA-256 and a size")
        }
        let next = m.hasNext ? KeyGeneration(
            wrappedDecodeKey: Array(n.wrappedDecodeKey), encodeKeyID: Array(n.encodeKeyID), receipt: Array(n.receipt),
            receiptSignature: Array(n.receiptSignature), sha256: Array(n.sha256), size: n.size
        ) : nil
        let outcome = try context.store.releaseKey(
            recordID: Array(m.recordID), owner: m.owner, fileName: m.fileName,
            receiptSignature: Array(m.receiptSignature), timeMs: m.timeUnixMs, source: m.source, clientID: m.clientID, next: next
        )
        switch outcome {
        case .released(let key):
            var released = Coffer_Wire_V1_KeyReleased()
            released.wrappedDecodeKey = Data(key.wrappedDecodeKey)
            released.auditIndex = key.auditIndex
            released.encodeKeyID = Data(key.encodeKeyID)
            released.sha256 = Data(key.sha256)
            released.size = key.size
            released.nextStaged = key.nextStaged
            released.centralCopyKept = key.hasCentral
            released.owner = key.owner
            return WireProtocol.response(to: request, .keyReleased(released))
        case .notFound:
            return WireProtocol.error(to: request, .notFound, "no such record")
        case .refused(let refusal):
            return Answers.refusal(request, refusal)
        }
    }
}
