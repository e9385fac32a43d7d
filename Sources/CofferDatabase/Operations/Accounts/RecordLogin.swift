import CofferStorage
import CofferWire

/// `RecordLogin`: a password check's outcome, audited as `login` or `login_failed` (and `locked` when
/// the failure locks the account), enrolling a new device on success.
enum RecordLogin: DatabaseOperation {
    static let touches = "users, devices, the audit log"

    static func answer(_ m: Coffer_Wire_V1_RecordLogin, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        let lockMs = m.lockMs == 0 ? Int64(WireDefaults.lockoutDuration.components.seconds * 1000) : m.lockMs
        let outcome = try context.store.recordLogin(
            user: m.user, success: m.success, reason: m.reason, timeMs: m.timeUnixMs, source: m.source, device: Answers.device(m.hasDevice, m.device),
            maxFailures: m.maxFailures == 0 ? WireDefaults.lockoutAttempts : Int(m.maxFailures), lockMs: lockMs
        )
        switch outcome {
        case .recorded(let index, _):
            return Answers.audited(request, index, missing: "")
        case .deviceConflict:
            return WireProtocol.error(to: request, .forbidden, "this client id is enrolled with a different device key")
        }
    }
}
