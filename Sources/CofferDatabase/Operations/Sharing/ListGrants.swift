import CofferStorage
import CofferWire
import Foundation

/// `ListGrants`: the live grants a user made and was given.
enum ListGrants: DatabaseOperation {
    static let touches = "grants, records, central copies, users (the lock)"

    static func answer(_ m: Coffer_Wire_V1_ListGrants, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        if let locked = try Answers.lockedRefusal(request, owner: m.user, context.store) { return locked }
        var answer = Coffer_Wire_V1_Grants()
        answer.grants = try context.store.listGrants(user: m.user, atMs: m.timeUnixMs, limit: OperationContext.maxItems).map { grant in
            var wire = Coffer_Wire_V1_Grant()
            wire.recordID = Data(grant.recordID)
            wire.owner = grant.owner
            wire.grantee = grant.grantee
            wire.fileName = grant.fileName
            wire.sha256 = Data(grant.sha256)
            wire.size = grant.size
            wire.grantedUnixMs = grant.grantedAtMs
            wire.expiresUnixMs = grant.expiresAtMs ?? 0
            if let central = grant.central { wire.central = Answers.central(central) }
            return wire
        }
        return WireProtocol.response(to: request, .grants(answer))
    }
}
