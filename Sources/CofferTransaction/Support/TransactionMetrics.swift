import CofferServerSupport
import Foundation
import Metrics

/// The transaction tier's own metrics (docs/DEPLOYMENT.md, Metrics), beside the requests by route
/// that Hummingbird's `MetricsMiddleware` counts and times, and the tier link's: refusals by code,
/// audit write failures, the newest checkpoint, the key backend's operation times, and — sampled
/// at each scrape — open connections, the password gate and whether audit writes are failing.
enum TransactionMetrics {
    private static let auditFailures = Counter(label: "coffer_audit_write_failures_total")
    private static let checkpointSize = Gauge(label: "coffer_checkpoint_tree_size")
    private static let checkpointTime = Gauge(label: "coffer_checkpoint_signed_timestamp_seconds")
    private static let connectionsRefused = Counter(label: "coffer_https_connections_refused_total")
    private static let refusals = CounterFamily("coffer_http_refusals_total", labels: ["code"])
    private static let keyOperations = TimerFamily("coffer_key_operation_duration_seconds", labels: ["operation"])

    /// A request answered with an error: its code (`login_failed`, `too_many_requests`, `replayed`, `busy`, …).
    static func refused(code: String) {
        refusals.increment(code)
    }

    /// A connection beyond `max-connections`, answered busy.
    static func connectionRefused() { connectionsRefused.increment() }

    /// An audit entry could not be written.
    static func auditWriteFailed() { auditFailures.increment() }

    /// The newest checkpoint: its size, and when it was signed (Unix seconds).
    static func checkpoint(size: Int64, signedAt: Date) {
        checkpointSize.record(size)
        checkpointTime.record(signedAt.timeIntervalSince1970)
    }

    /// Times one operation of the key backend (`new_generation`, `release`, `sign_checkpoint`).
    static func timed<T>(_ operation: String, _ body: () async throws -> T) async rethrows -> T {
        let started = ContinuousClock.now
        defer { keyOperation(operation, since: started) }
        return try await body()
    }

    /// Records one operation of the key backend that began at `started`.
    static func keyOperation(_ operation: String, since started: ContinuousClock.Instant) {
        keyOperations.record(ContinuousClock.now - started, operation)
    }

    /// Registers the gauges read at each scrape.
    static func sample(connections: ConnectionLimit, services: TransactionServices) {
        let open = Gauge(label: "coffer_https_connections_open")
        let running = Gauge(label: "coffer_password_gate_running")
        let waiting = Gauge(label: "coffer_password_gate_waiting")
        let failing = Gauge(label: "coffer_audit_failing")
        ServerMetrics.sampleBeforeExposition {
            open.record(connections.current)
            let load = services.accounts.passwordWork.load
            running.record(load.running)
            waiting.record(load.waiting)
            failing.record(services.gateway.auditWrites.failure == nil ? 0 : 1)
        }
    }
}
