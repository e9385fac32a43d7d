import CofferAPI
import Foundation

/// The process's ``TransactionProcessStatus`` as JSON, for `GET /status` on its metrics listener.
enum TransactionStatus {
    static func json(_ services: TransactionServices, checkpointer: Checkpointer) async -> String {
        let readiness = await services.health.readiness()
        let signed = checkpointer.lastSigned
        let status = TransactionProcessStatus(
            ready: readiness.ok, detail: readiness.detail, audit: services.health.auditFault() ?? "ok",
            checkpointSize: signed?.size, checkpointAtMs: signed?.atMs, keyBackend: services.keys.description,
            identityKey: ServerIdentity.fingerprint(of: services.keys.signingPublicKey), checkpointKey: checkpointer.verifierKey,
            acceptRestore: checkpointer.acceptedRestore, kek: services.keys.keks?.current, kekUnwrapOnly: services.keys.keks?.unwrapOnly
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(status)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
