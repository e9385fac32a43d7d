import CofferWire
import CofferTierLink

/// Whether this process should get work: it is not draining, the database tier answers, and audit
/// entries can be written and checkpoints signed.
struct HealthService: Sendable {
    let database: DatabaseGateway
    let checkpointer: Checkpointer
    let drain: DrainState

    /// Ready to receive requests, and why not.
    func readiness() async -> (ok: Bool, detail: String) {
        if drain.draining { return (false, "draining") }
        if let fault = auditFault() { return (false, "audit \(fault)") }
        let database = await databaseHealth()
        return database.ok ? (true, database.detail) : (false, "database tier unavailable")
    }

    /// Why the audit history is not healthy, or `nil`.
    func auditFault() -> String? {
        if let inconsistent = checkpointer.fault { return "inconsistent: \(inconsistent)" }
        if let failing = database.auditWrites.failure { return "failing: \(failing)" }
        return nil
    }

    /// Whether the database tier answers, and with which store and schema.
    func databaseHealth() async -> (ok: Bool, detail: String) {
        do {
            guard case .pong(let pong) = try await database.link.call(.ping(.init())) else { return (false, "unexpected answer") }
            return (true, "\(pong.store), schema \(pong.schemaVersion)")
        } catch {
            return (false, "\(error)")
        }
    }
}
