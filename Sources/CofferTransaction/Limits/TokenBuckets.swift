import Synchronization

/// Per-key token buckets: each key (`user:NAME`, `source:ADDRESS`) may spend `burst` requests at
/// once and regains `perHour` an hour, evenly, so that one account or one address cannot fill the
/// records and the audit log however fast it sends.
///
/// A refused request costs nothing else: no database call, no audit entry of its own. Refusals are
/// counted per key and audited in one summary entry per key and window, as the failure budgets are.
/// The table of keys is bounded; beyond `maxKeys` (after dropping the buckets that have refilled),
/// new keys share one overflow bucket.
public final class TokenBuckets: Sendable {
    /// How much each key may do.
    public struct Policy: Sendable, Equatable {
        /// Requests a key may make at once, after a quiet spell.
        public var burst: Int
        /// Requests a key regains per hour, one at a time; 0 turns the limit off.
        public var perHour: Int
        /// The most keys remembered at once.
        public var maxKeys: Int = 100_000

        public init(burst: Int, perHour: Int) {
            self.burst = burst
            self.perHour = perHour
        }

        /// No limit.
        public static let off = Policy(burst: 0, perHour: 0)

        /// Whether the limit applies at all.
        public var isEnabled: Bool { perHour > 0 && burst > 0 }
    }

    private struct Bucket {
        var tokens: Double
        var updatedMs: Int64
    }

    private struct Refused {
        var count: Int
        var sinceMs: Int64
    }

    private struct State {
        var buckets: [String: Bucket] = [:]
        var refused: [String: Refused] = [:]
        /// When the full table was last swept of refilled buckets.
        var sweptMs: Int64?
    }

    public static let overflowKey = "overflow:*"
    public let policy: Policy
    private let state = Mutex(State())

    public init(policy: Policy) {
        self.policy = policy
    }

    /// Spends one token of `key`'s bucket, or refuses.
    ///
    /// - Returns: `nil` when admitted, else the whole seconds until a token is back.
    public func take(_ key: String, nowMs: Int64) -> Int? {
        guard policy.isEnabled else { return nil }
        let msPerToken = 3_600_000 / Double(policy.perHour)
        return state.withLock { state in
            let slot = slot(for: key, &state, nowMs: nowMs, msPerToken: msPerToken)
            var bucket = state.buckets[slot] ?? Bucket(tokens: Double(policy.burst), updatedMs: nowMs)
            bucket.tokens = min(Double(policy.burst), bucket.tokens + Double(max(0, nowMs - bucket.updatedMs)) / msPerToken)
            bucket.updatedMs = nowMs
            defer { state.buckets[slot] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            state.refused[slot, default: Refused(count: 0, sinceMs: nowMs)].count += 1
            return max(1, Int(((1 - bucket.tokens) * msPerToken / 1000).rounded(.up)))
        }
    }

    /// The refusals of every key whose summary window (`windowMs` since its first refusal) is over.
    public func drain(nowMs: Int64, windowMs: Int64) -> [FailureLimiter.Summary] {
        state.withLock { state in
            var due: [FailureLimiter.Summary] = []
            for (key, refused) in state.refused where refused.sinceMs + windowMs <= nowMs {
                due.append(FailureLimiter.Summary(key: key, refused: refused.count, windowStartMs: refused.sinceMs))
                state.refused[key] = nil
            }
            return due.sorted { $0.key < $1.key }
        }
    }

    /// `key`, or the overflow key when the table is full of buckets still in use.
    ///
    /// The full table is swept at most once a second, so that a flood of new keys costs one pass
    /// over it a second rather than one per request.
    private func slot(for key: String, _ state: inout State, nowMs: Int64, msPerToken: Double) -> String {
        guard state.buckets[key] == nil, state.buckets.count >= policy.maxKeys else { return key }
        // A clock set back sweeps again.
        let sweptLately = state.sweptMs.map { nowMs >= $0 && nowMs - $0 < 1_000 } ?? false
        if !sweptLately {
            let full = Double(policy.burst)
            state.buckets = state.buckets.filter { $0.value.tokens + Double(nowMs - $0.value.updatedMs) / msPerToken < full }
            state.sweptMs = nowMs
        }
        return state.buckets.count >= policy.maxKeys ? Self.overflowKey : key
    }
}
