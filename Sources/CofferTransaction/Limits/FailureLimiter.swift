import Synchronization

/// Bounds how many failed attempts (wrong passwords, refused retrievals) each source address and
/// each user may make per window, so that a flood cannot fill the audit log or stall the tiers.
///
/// Failures within the budget are audited one by one as usual. Once a key (`source:ADDRESS` or
/// `user:NAME`) has spent its budget, further attempts are refused at once with 429 — no password
/// hash, no database call — and only counted; when the window ends, one `rate_limited` entry per key
/// records how many were refused. The table of keys is bounded too: beyond `maxKeys`, new keys share
/// one overflow key.
///
/// Attempts in flight are counted apart from failures. A *strict* admission (logins: anyone may try
/// a password) counts them against the budget as if they would fail, so that a concurrent flood
/// cannot overrun it; a lenient one (retrievals: only an authenticated device can try) admits while
/// the failures alone are within budget, so that one user's many concurrent retrievals are never
/// refused for being concurrent.
///
/// When the table is full, new keys share the overflow key's budget. Logins under a name not yet in
/// the table are then refused once that budget is spent, until the window ends: a flood of more
/// made-up names than `maxKeys` in one window can hold up logins of users not seen in it. Lenient
/// admissions never count the overflow key's failures against a user.
public final class FailureLimiter: Sendable {
    /// Budgets and the window.
    public struct Policy: Sendable {
        /// Failures per source address per window.
        public var perSource: Int = 100
        /// Failures per user name per window.
        public var perUser: Int = 10
        /// The window's length.
        public var window: Duration = .seconds(60)
        /// The most keys remembered at once.
        public var maxKeys: Int = 10_000
        public init() {}
    }

    /// Refusals a window absorbed, to be audited in one entry.
    public struct Summary: Sendable, Equatable {
        public var key: String
        public var refused: Int
        public var windowStartMs: Int64
        public init(key: String, refused: Int, windowStartMs: Int64) {
            self.key = key
            self.refused = refused
            self.windowStartMs = windowStartMs
        }
    }

    struct Window {
        var startMs: Int64
        var failures: Int
        var refused: Int
        var inFlight = 0
    }

    struct State {
        var windows: [String: Window] = [:]
        var finished: [Summary] = []
    }

    public static let overflowKey = "overflow:*"
    public let policy: Policy
    private let state = Mutex(State())

    public init(policy: Policy) {
        self.policy = policy
    }

    /// The window in milliseconds.
    var windowMs: Int64 { Int64(policy.window.components.seconds * 1000) + Int64(policy.window.components.attoseconds / 1_000_000_000_000_000) }

    /// Admits an attempt by `user` from `source`, or refuses it when a key spent its budget; an
    /// admitted attempt must be ended with ``finished(source:user:failed:nowMs:)``.
    ///
    /// - Parameter strict: Count the attempts in flight as failures too (see the type's discussion).
    /// - Returns: `nil` when admitted, else the seconds until the budget renews.
    public func admit(source: String, user: String?, nowMs: Int64, strict: Bool = true) -> Int? {
        let keys = Self.keys(source: source, user: user)
        return state.withLock { state in
            var retryAfter: Int?
            for key in keys {
                let slot = slotKey(key, &state, nowMs)
                // A lenient attempt is judged by its own key's failures only: when the table is full,
                // the overflow key's failures are other people's, and would refuse an authenticated
                // user because of a flood of made-up names.
                if !strict && slot != key { continue }
                let budget = key.hasPrefix("user:") ? policy.perUser : policy.perSource
                guard let window = state.windows[slot], window.failures + (strict ? window.inFlight : 0) >= budget else { continue }
                state.windows[slot]?.refused += 1
                retryAfter = max(retryAfter ?? 0, Int((window.startMs + windowMs - nowMs + 999) / 1000))
            }
            guard retryAfter == nil else { return retryAfter }
            for key in keys {
                let slot = slotKey(key, &state, nowMs)
                state.windows[slot, default: Window(startMs: nowMs, failures: 0, refused: 0)].inFlight += 1
            }
            return nil
        }
    }

    /// Ends an admitted attempt; a failed one is charged to the budgets. An attempt that did not
    /// fail on its merits (the service was unavailable, say) ends with `failed: false`.
    public func finished(source: String, user: String?, failed: Bool, nowMs: Int64) {
        state.withLock { state in
            for key in Self.keys(source: source, user: user) {
                let slot = slotKey(key, &state, nowMs)
                var window = state.windows[slot] ?? Window(startMs: nowMs, failures: 0, refused: 0)
                window.inFlight = max(0, window.inFlight - 1)
                if failed { window.failures += 1 }
                state.windows[slot] = window
            }
        }
    }

    /// Ends an admitted attempt that succeeded.
    public func succeeded(source: String, user: String?, nowMs: Int64) {
        finished(source: source, user: user, failed: false, nowMs: nowMs)
    }

    private static func keys(source: String, user: String?) -> [String] {
        ["source:\(source)"] + (user.map { ["user:\($0)"] } ?? [])
    }

    /// Ends the windows that are over and returns the refusals to audit.
    public func drain(nowMs: Int64) -> [Summary] {
        state.withLock { state in
            for (key, window) in state.windows where window.startMs + windowMs <= nowMs {
                state.windows[key] = nil
                if window.refused > 0 { state.finished.append(Summary(key: key, refused: window.refused, windowStartMs: window.startMs)) }
            }
            defer { state.finished = [] }
            return state.finished
        }
    }

    /// The live window of `key`, ending it first if it is over.
    private func current(_ key: String, _ state: inout State, _ nowMs: Int64) -> Window? {
        let slot = state.windows[key] != nil ? key : (state.windows.count >= policy.maxKeys ? Self.overflowKey : key)
        guard let window = state.windows[slot] else { return nil }
        if window.startMs + windowMs <= nowMs {
            state.windows[slot] = nil
            if window.refused > 0 { state.finished.append(Summary(key: slot, refused: window.refused, windowStartMs: window.startMs)) }
            return nil
        }
        return window
    }

    /// The key to count under: `key` itself, or the overflow key when the table is full.
    private func slotKey(_ key: String, _ state: inout State, _ nowMs: Int64) -> String {
        _ = current(key, &state, nowMs)
        if state.windows[key] != nil || state.windows.count < policy.maxKeys { return key }
        return Self.overflowKey
    }
}
