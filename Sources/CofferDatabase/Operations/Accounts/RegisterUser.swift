import CofferStorage
import CofferWire

/// `RegisterUser`: a new account and its first device, audited as `register`.
enum RegisterUser: DatabaseOperation {
    static let touches = "users, devices, the audit log"

    static func answer(_ m: Coffer_Wire_V1_RegisterUser, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard !m.user.isEmpty, !m.passwordHash.isEmpty else {
            return WireProtocol.error(to: request, .badRequest, "user and password hash are required")
        }
        guard try context.store.registerUser(name: m.user, passwordHash: m.passwordHash, timeMs: m.timeUnixMs, source: m.source,
                                             device: Answers.device(m.hasDevice, m.device)) else {
            return WireProtocol.error(to: request, .conflict, "the user name is taken")
        }
        return WireProtocol.response(to: request, .ack(.init()))
    }
}
