import Logging

/// Writes the refusals of every limit into the audit log as summaries: one `rate_limited` entry per
/// key and window for the failure budgets and the per-user and per-address limits, and one entry
/// with the count of password checks refused busy since the last round.
struct RateLimitAuditor: Sendable {
    let database: DatabaseGateway
    let failures: FailureLimiter
    let userChanges: TokenBuckets
    let registrations: TokenBuckets
    let passwordWork: PasswordWorkGate
    let logger: Logger

    /// One round: drains every limiter's finished windows and appends their summaries.
    func auditRound() async {
        let now = Clock.nowMs()
        var entries: [(user: String, source: String, detail: String)] = []
        func add(_ summary: FailureLimiter.Summary, _ what: String) {
            let user = summary.key.hasPrefix("user:") ? String(summary.key.dropFirst(5)) : "-"
            let source = summary.key.hasPrefix("source:") ? String(summary.key.dropFirst(7)) : ""
            entries.append((user, source, "\(summary.refused) \(what) (\(summary.key), window from \(summary.windowStartMs))"))
        }
        for summary in failures.drain(nowMs: now) { add(summary, "attempts refused after too many failures") }
        let windowMs = failures.windowMs
        for summary in userChanges.drain(nowMs: now, windowMs: windowMs) { add(summary, "saves, retrievals and deletes refused beyond the per-user limit") }
        for summary in registrations.drain(nowMs: now, windowMs: windowMs) { add(summary, "registrations refused beyond the per-address limit") }
        let busy = passwordWork.drainRefusals()
        if busy > 0 {
            entries.append(("-", "", "\(busy) logins or registrations refused busy: \(passwordWork.policy.concurrent) password checks running and \(passwordWork.policy.waiting) waiting"))
        }
        for entry in entries {
            do {
                _ = try await database.call(WireMessages.rateLimitSummary(user: entry.user, source: entry.source, detail: entry.detail, timeMs: Clock.nowMs()))
            } catch {
                logger.error("cannot audit rate-limited attempts", metadata: ["coffer.detail": "\(entry.detail)", "coffer.error": "\(error)"])
            }
        }
    }
}
