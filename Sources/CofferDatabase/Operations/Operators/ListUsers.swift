import CofferStorage
import CofferWire

/// `ListUsers`: the accounts, by name, for an operator.
enum ListUsers: DatabaseOperation {
    static let touches = "users, records, devices"

    static func answer(_ m: Coffer_Wire_V1_ListUsers, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        var users = Coffer_Wire_V1_Users()
        let limit = m.limit <= 0 ? OperationContext.maxItems : min(Int(m.limit), OperationContext.maxItems)
        users.users = try context.store.listUsers(after: m.after, limit: limit).map { u in
            var summary = Coffer_Wire_V1_UserSummary()
            summary.name = u.name
            summary.createdUnixMs = u.createdAtMs
            summary.locked = u.locked
            summary.lockedUntilUnixMs = u.lockedUntilMs
            summary.failedLogins = u.failedLogins
            summary.records = u.records
            summary.devices = u.devices
            return summary
        }
        return WireProtocol.response(to: request, .users(users))
    }
}
