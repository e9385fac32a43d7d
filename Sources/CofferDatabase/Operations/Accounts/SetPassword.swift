import CofferStorage
import CofferWire

/// `SetPassword`: a password change the transaction tier checked — the new hash, the failed-login
/// count cleared, the other devices' sessions ended — audited as `password_changed`.
enum SetPassword: DatabaseOperation {
    static let touches = "users, devices, the audit log"

    static func answer(_ m: Coffer_Wire_V1_SetPassword, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard !m.user.isEmpty, m.user.utf8.count <= 256, !m.passwordHash.isEmpty, m.passwordHash.utf8.count <= 1024,
              !m.clientID.isEmpty, m.clientID.utf8.count <= 256, m.source.utf8.count <= 256, m.timeUnixMs > 0
        else {
            return WireProtocol.error(to: request, .badRequest, "a password change needs a user, a hash, a client id and a time, and short fields")
        }
        let index = try context.store.changePassword(user: m.user, passwordHash: m.passwordHash, clientID: m.clientID, timeMs: m.timeUnixMs, source: m.source)
        return Answers.audited(request, index, missing: "no such user")
    }
}
