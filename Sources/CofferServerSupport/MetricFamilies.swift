import Metrics
import Synchronization

/// A counter with labels whose values are known only at run time (an operation's name, an error's
/// code), made once per set of values and kept: counting is then one lock and one lookup, not a
/// trip through the metrics factory.
public final class CounterFamily: Sendable {
    private let label: String
    private let names: [String]
    private let made = Mutex<[[String]: Counter]>([:])

    /// A family named `label` whose label names are `names`; every increment gives their values in order.
    public init(_ label: String, labels names: [String]) {
        self.label = label
        self.names = names
    }

    /// Adds `amount` to the counter of these label values.
    public func increment(_ values: String..., by amount: Int64 = 1) {
        let counter = made.withLock { made in
            if let counter = made[values] { return counter }
            let counter = Counter(label: label, dimensions: Array(zip(names, values)))
            made[values] = counter
            return counter
        }
        counter.increment(by: amount)
    }
}

/// A timer (a latency histogram) with labels known only at run time, made once per set of values.
public final class TimerFamily: Sendable {
    private let label: String
    private let names: [String]
    private let made = Mutex<[[String]: Timer]>([:])

    public init(_ label: String, labels names: [String]) {
        self.label = label
        self.names = names
    }

    /// Records `elapsed` under these label values.
    public func record(_ elapsed: Duration, _ values: String...) {
        let timer = made.withLock { made in
            if let timer = made[values] { return timer }
            let timer = Timer(label: label, dimensions: Array(zip(names, values)))
            made[values] = timer
            return timer
        }
        timer.record(duration: elapsed)
    }
}
