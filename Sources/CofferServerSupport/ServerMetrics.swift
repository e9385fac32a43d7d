import Metrics
import Prometheus
import Synchronization

/// The process's metrics (docs/DEPLOYMENT.md, Metrics): swift-metrics, reported to one Prometheus
/// registry and exposed in Prometheus' text format on a listener of its own (``HealthListener``
/// with `metrics`), never on the public HTTPS port.
///
/// Labels name endpoints, operations, outcomes and reasons — never a user, a file or a secret.
public enum ServerMetrics {
    /// Where the process's metrics are collected.
    static let registry = PrometheusCollectorRegistry()
    private static let state = Mutex(State())

    private struct State {
        var bootstrapped = false
        var samplers: [@Sendable () -> Void] = []
    }

    /// Makes swift-metrics report to ``registry``; the first call in a process does, later ones
    /// nothing (a process may bootstrap swift-metrics only once).
    ///
    /// - Parameter valueBuckets: Histogram bucket bounds for recorders by name (the default ones
    ///   suit latencies in milliseconds, not counts).
    public static func bootstrap(valueBuckets: [String: [Double]] = [:]) {
        let first = state.withLock { state in
            defer { state.bootstrapped = true }
            return !state.bootstrapped
        }
        guard first else { return }
        var factory = PrometheusMetricsFactory(registry: registry)
        // Names and labels in Prometheus' alphabet: `http.server.requests` is `http_server_requests`.
        factory.nameAndLabelSanitizer = { name, labels in
            (Self.prometheusName(name), labels.map { (Self.prometheusName($0.0), $0.1) })
        }
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
            .seconds(5), .seconds(10),
        ]
        factory.valueHistogramBuckets = valueBuckets
        MetricsSystem.bootstrap(factory)
    }

    /// Adds `sample`, run before each exposition: for gauges read from the process's state (open
    /// connections, queue depths, the newest checkpoint) rather than set at each change.
    public static func sampleBeforeExposition(_ sample: @escaping @Sendable () -> Void) {
        state.withLock { $0.samplers.append(sample) }
    }

    /// The metrics now, in Prometheus' text exposition format (version 0.0.4).
    public static func exposition() -> String {
        for sample in state.withLock({ $0.samplers }) { sample() }
        return registry.emitToString()
    }

    /// The content type of ``exposition()``.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func prometheusName(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "_" })
    }
}
