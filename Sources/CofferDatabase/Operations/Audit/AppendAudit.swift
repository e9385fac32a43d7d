import CofferAudit
import CofferStorage
import CofferWire

/// `AppendAudit`: an entry the other side writes itself — only an operator's `admin` entry, a
/// `rate_limited` summary, a `web_module` publication or a `retrieve_refused` for a release the
/// transaction tier's device failed to complete, with short fields.
enum AppendAudit: DatabaseOperation {
    static let touches = "the audit log"

    static func answer(_ m: Coffer_Wire_V1_AppendAudit, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard [AuditKind.admin, .rateLimited, .webModule, .retrieveRefused].map(\.rawValue).contains(m.kind), !m.user.isEmpty,
              m.detail.utf8.count <= 1024, m.user.utf8.count <= 256, m.source.utf8.count <= 256
        else {
            return WireProtocol.error(to: request, .badRequest, "only `admin`, `rate_limited`, `web_module` and `retrieve_refused` entries may be appended directly, with short fields")
        }
        let index = try context.store.audit(AuditEvent(kind: m.kind, user: m.user, timeMs: m.timeUnixMs, detail: m.detail, source: m.source))
        return Answers.audited(request, index, missing: "")
    }
}
