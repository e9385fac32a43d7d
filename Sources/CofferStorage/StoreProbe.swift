import Synchronization

/// Answers "does the store answer?" for readiness probes over one kept connection, reconnecting
/// only after it failed, instead of opening a connection per probe.
public final class StoreProbe: Sendable {
    private let location: StoreLocation
    private let connection = Mutex<Connection?>(nil)

    /// A connection that only the probe, under its lock, uses.
    private struct Connection: @unchecked Sendable {
        let connection: any SQLConnection
    }

    public init(location: StoreLocation) {
        self.location = location
    }

    /// Whether `SELECT 1` succeeds: on the kept connection, or, when it failed (or none is kept),
    /// on a new one.
    public func isReachable() -> Bool {
        connection.withLock { kept in
            if let current = kept?.connection, (try? current.query("SELECT 1", [])) != nil { return true }
            kept = nil
            guard let fresh = try? location.connect(), (try? fresh.query("SELECT 1", [])) != nil else { return false }
            kept = Connection(connection: fresh)
            return true
        }
    }
}
