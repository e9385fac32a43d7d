import HTTPTypes
extension FailureLimiter {
    /// Refuses at once, with 429 and no audit entry of its own, an attempt from a source or for a
    /// user that used up its failure budget; the refusals are audited in one entry per window. An
    /// admitted attempt must be ended with ``finished(source:user:failed:nowMs:)``.
    func check(source: String, user: String, strict: Bool) throws {
        if let retryAfter = admit(source: source, user: user, nowMs: Clock.nowMs(), strict: strict) {
            throw APIError(.tooManyRequests, "rate_limited", "too many failed attempts from this address or for this account; retry in \(retryAfter) s", retryAfter: retryAfter)
        }
    }
}

extension TokenBuckets {
    /// Spends one of the user's change tokens (saves, retrievals, deletes), or refuses with 429 and
    /// no audit entry of its own; the refusals are audited in one entry per user and window. A
    /// re-seal confirmation, a logout and a password change are never refused by it: each is bounded
    /// otherwise, and a user whose session is abused must always be able to end it.
    func spendChange(of session: Session) throws {
        if let retryAfter = take("user:\(session.user)", nowMs: Clock.nowMs()) {
            throw APIError(.tooManyRequests, "rate_limited", "too many saves, retrievals and deletes for this account; retry in \(retryAfter) s", retryAfter: retryAfter)
        }
    }
}
