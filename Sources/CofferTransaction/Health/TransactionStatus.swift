import CofferAPI
import Foundation

/// The process's ``TransactionProcessStatus`` as JSON, for `GET /status` on its metrics listener.
enum TransactionStatus {
    static func json(_ services: TransactionServices, checkpointer: Checkpointer) async -> String {
        let readiness = await services.health.readiness()
        let signed = checkpointer.lastSigned
        var status = TransactionProcessStatus(
            ready: readiness.ok, detail: readiness.detail, audit: services.health.auditFault() ?? "ok",
            checkpointSize: signed?.size, checkpointAtMs: signed?.atMs, keyBackend: services.keys.description,
            identityKey: ServerIdentity.fingerprint(of: services.identity.active().publicKey), checkpointKey: checkpointer.verifierKey,
            acceptRestore: checkpointer.acceptedRestore, kek: services.keys.keks?.current, kekUnwrapOnly: services.keys.keks?.unwrapOnly
        )
        if let next = services.identity.next, Clock.nowMs() < next.from {
            status.identityKeyNext = ServerIdentity.fingerprint(of: next.signer.publicKey)
            status.identityKeyFromMs = next.from
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(status)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
