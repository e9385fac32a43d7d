import CofferAPI
import CofferWire

/// A signed request whose bearer token and device signature were checked: its session, the replay
/// guard the database tier enforces with the request's first call, and the body, read once.
struct Authenticated: Sendable {
    let session: Session
    let replayGuard: Coffer_Wire_V1_ReplayGuard
    let body: [UInt8]
}
