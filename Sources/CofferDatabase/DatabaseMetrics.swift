import CofferServerSupport
import CofferStorage
import CofferWire
import Metrics

/// The database tier's metrics (docs/DEPLOYMENT.md, Metrics): requests by operation and outcome,
/// batch sizes and the time of a batch with its durable commit, audit appends, and lost store
/// connections.
public enum DatabaseMetrics {
    private static let batchSize = Recorder(label: "coffer_db_batch_size")
    private static let batchDuration = Timer(label: "coffer_db_batch_duration_seconds")
    private static let appends = Counter(label: "coffer_audit_appends_total")
    private static let logSize = Gauge(label: "coffer_audit_log_entries")
    private static let reconnects = Counter(label: "coffer_db_store_reconnects_total")
    private static let requests = CounterFamily("coffer_db_requests_total", labels: ["operation", "outcome"])

    /// The histogram buckets of the database tier's recorders, for ``ServerMetrics/bootstrap(valueBuckets:)``:
    /// requests per batch.
    public static let buckets: [String: [Double]] = ["coffer_db_batch_size": [1, 2, 4, 8, 16, 32, 64, 128]]

    /// One request answered: its operation's name (docs/PROTOCOL.md) and `ok` or its error code.
    static func answered(_ operation: String, outcome: String) {
        requests.increment(operation, outcome)
    }

    /// One batch answered: how many requests, and how long from its first read to its answers.
    static func batch(size: Int, elapsed: Duration) {
        batchSize.record(size)
        batchDuration.record(duration: elapsed)
    }

    /// A committed batch appended `appended` entries; the log's size, when known.
    static func auditLog(appended: Int64, size: Int64?) {
        if appended > 0 { appends.increment(by: appended) }
        if let size { logSize.record(size) }
    }

    static func reconnected() { reconnects.increment() }

    /// The outcome label of an answer: `ok`, or its error code as the tier protocol names it, in
    /// lowercase (`not_found`, `audit_failed`, …).
    static func outcome(of response: WireResponse) -> String {
        guard case .error(let error) = response.body else { return "ok" }
        return switch error.code {
        case .unspecified: "unspecified"
        case .badRequest: "bad_request"
        case .unsupportedVersion: "unsupported_version"
        case .conflict: "conflict"
        case .notFound: "not_found"
        case .forbidden: "forbidden"
        case .internal: "internal"
        case .unavailable: "unavailable"
        case .replayed: "replayed"
        case .auditFailed: "audit_failed"
        case .accountLocked: "account_locked"
        case .sessionEnded: "session_ended"
        case .quotaExceeded: "quota_exceeded"
        case .UNRECOGNIZED: "unrecognized"
        }
    }
}
