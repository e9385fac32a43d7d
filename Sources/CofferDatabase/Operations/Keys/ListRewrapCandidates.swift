import CofferStorage
import CofferWire
import Foundation

/// `ListRewrapCandidates`: records whose key is in a key-file form other than the current KEK's.
enum ListRewrapCandidates: DatabaseOperation {
    static let touches = "records (the first bytes of wrapped keys)"

    static func answer(_ m: Coffer_Wire_V1_ListRewrapCandidates, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard m.currentTag.count == 9, m.afterRecordID.count <= 16 else {
            return WireProtocol.error(to: request, .badRequest, "the current tag is 9 bytes and a record id at most 16")
        }
        let limit = m.limit == 0 ? OperationContext.maxItems : min(Int(m.limit), OperationContext.maxItems)
        var answer = Coffer_Wire_V1_RewrapCandidates()
        answer.candidates = try context.store.rewrapCandidates(currentTag: Array(m.currentTag), after: Array(m.afterRecordID), limit: limit).map { c in
            var candidate = Coffer_Wire_V1_RewrapCandidate()
            candidate.recordID = Data(c.recordID)
            candidate.owner = c.owner
            candidate.encodeKeyID = Data(c.encodeKeyID)
            candidate.wrapped = Data(c.wrapped ?? [])
            candidate.pendingEncodeKeyID = Data(c.pendingEncodeKeyID ?? [])
            candidate.pendingWrapped = Data(c.pendingWrapped ?? [])
            return candidate
        }
        return WireProtocol.response(to: request, .rewrapCandidates(answer))
    }
}
