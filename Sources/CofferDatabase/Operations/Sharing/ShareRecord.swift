import CofferStorage
import CofferWire

/// `ShareRecord`: the owner lets another registered user retrieve the record until a time or until
/// revoked; audited as `share`, a refusal as `share_refused`.
enum ShareRecord: DatabaseOperation {
    static let touches = "records, users (the grantee, the lock), grants, the audit log"

    static func answer(_ m: Coffer_Wire_V1_ShareRecord, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard m.recordID.count == 16, !m.owner.isEmpty, !m.grantee.isEmpty, m.expiresUnixMs >= 0 else {
            return WireProtocol.error(to: request, .badRequest, "a share needs a 16-byte record id, an owner and a grantee")
        }
        let outcome = try context.store.shareRecord(
            recordID: Array(m.recordID), owner: m.owner, grantee: m.grantee, expiresAtMs: m.expiresUnixMs == 0 ? nil : m.expiresUnixMs,
            timeMs: m.timeUnixMs, source: m.source, clientID: m.clientID
        )
        return Answers.grant(request, outcome)
    }
}
