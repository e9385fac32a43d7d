import Metrics
import Synchronization

/// The tier link's metrics (docs/DEPLOYMENT.md, Metrics): calls by outcome and their latency,
/// attempts sent again and why, and the calls waiting for an answer now.
enum TierLinkMetrics {
    private static let waiting = Atomic<Int>(0)
    private static let inFlight = Gauge(label: "coffer_tier_link_in_flight")
    private static let duration = Timer(label: "coffer_tier_link_call_duration_seconds")
    private static let refusals = Counter(label: "coffer_tier_link_refusals_total")
    private static let ok = Counter(label: "coffer_tier_link_calls_total", dimensions: [("outcome", "ok")])
    private static let unavailable = Counter(label: "coffer_tier_link_calls_total", dimensions: [("outcome", "unavailable")])
    private static let retries = ["timeout", "no_process", "unavailable_answer"].reduce(into: [String: Counter]()) {
        $0[$1] = Counter(label: "coffer_tier_link_retries_total", dimensions: [("reason", $1)])
    }

    static func began() {
        inFlight.record(waiting.add(1, ordering: .relaxed).newValue)
    }

    /// A call ended: `ok` (an answer, a refusal included) or `unavailable` (no answer in time, or a failure).
    /// (The metrics here are made at first use, after the process bootstrapped swift-metrics.)
    static func ended(_ outcome: String, after elapsed: Duration) {
        inFlight.record(waiting.subtract(1, ordering: .relaxed).newValue)
        (outcome == "ok" ? ok : unavailable).increment()
        duration.record(duration: elapsed)
    }

    /// An attempt is sent again: `timeout`, `no_process` or `unavailable_answer`.
    static func retried(_ reason: String) {
        retries[reason]?.increment()
    }

    /// The database tier answered with a refusal (not found, forbidden, conflict, …).
    static func refused() { refusals.increment() }
}
