import CofferStorage
import CofferWire
import Foundation

/// `RewrapKeys`: a batch of a KEK rotation; each key replaced only if unchanged since it was listed,
/// the batch audited as `key_rewrap`.
enum RewrapKeys: DatabaseOperation {
    static let touches = "records (wrapped keys), the audit log"

    static func answer(_ m: Coffer_Wire_V1_RewrapKeys, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard m.rewraps.count <= OperationContext.maxItems, m.kekID.count == 16, m.kekID.allSatisfy(\.isHexDigit), m.source.utf8.count <= 256,
              m.rewraps.allSatisfy({ $0.recordID.count == 16 && $0.newWrapped.count <= 256 && $0.newPending.count <= 256 })
        else {
            return WireProtocol.error(to: request, .badRequest, "a rewrap batch names a 16-digit KEK id and at most \(OperationContext.maxItems) records")
        }
        let changes = m.rewraps.map { r in
            KeyRewrapChange(recordID: Array(r.recordID), oldWrapped: r.oldWrapped.isEmpty ? nil : Array(r.oldWrapped),
                            newWrapped: r.newWrapped.isEmpty ? nil : Array(r.newWrapped),
                            oldPending: r.oldPending.isEmpty ? nil : Array(r.oldPending), newPending: r.newPending.isEmpty ? nil : Array(r.newPending))
        }
        let outcome = try context.store.rewrapKeys(changes, kekID: m.kekID, timeMs: context.nowMs, source: m.source)
        var answer = Coffer_Wire_V1_Rewrapped()
        answer.moved = UInt32(outcome.moved)
        answer.auditIndex = outcome.auditIndex ?? -1
        return WireProtocol.response(to: request, .rewrapped(answer))
    }
}
