import Synchronization

/// Set once a graceful shutdown began: readiness then fails so that balancers stop sending work.
final class DrainState: Sendable {
    private let state = Mutex(false)
    var draining: Bool { state.withLock { $0 } }
    func begin() { state.withLock { $0 = true } }
}
