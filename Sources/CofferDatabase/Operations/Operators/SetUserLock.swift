import CofferStorage
import CofferWire

/// `SetUserLock`: an operator's lock or unlock of an account, audited as `admin`; an unlock also
/// ends the sessions that were open when the lock came.
enum SetUserLock: DatabaseOperation {
    static let touches = "users, devices, the audit log"

    static func answer(_ m: Coffer_Wire_V1_SetUserLock, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard !m.user.isEmpty, m.user.utf8.count <= 256, m.reason.utf8.count <= 512, m.operator.utf8.count <= 256 else {
            return WireProtocol.error(to: request, .badRequest, "a lock needs a user name, and short reason and operator fields")
        }
        let index = try context.store.setLocked(user: m.user, locked: m.locked, reason: m.reason, operatorName: m.operator, timeMs: m.timeUnixMs)
        return Answers.audited(request, index, missing: "no such user")
    }
}
