import CofferStorage
import CofferWire

/// `EndSessions`: a logout — the sessions of one device of a user, or of all of them, end — audited
/// as `logout`.
enum EndSessions: DatabaseOperation {
    static let touches = "devices, the audit log"

    static func answer(_ m: Coffer_Wire_V1_EndSessions, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard !m.user.isEmpty, m.user.utf8.count <= 256, !m.clientID.isEmpty, m.clientID.utf8.count <= 256, m.source.utf8.count <= 256,
              m.timeUnixMs > 0
        else {
            return WireProtocol.error(to: request, .badRequest, "a logout needs a user, a client id and a time, and short fields")
        }
        let index = try context.store.endSessions(user: m.user, clientID: m.clientID, allDevices: m.allDevices, timeMs: m.timeUnixMs, source: m.source)
        return Answers.audited(request, index, missing: "no such device")
    }
}
