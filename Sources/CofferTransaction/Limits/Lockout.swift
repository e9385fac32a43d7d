public import CofferWire

/// How many failed logins in a row lock an account, and for how long. The database tier applies it
/// (the transaction tier sends it with each failed attempt); the defaults are the tier protocol's.
public struct Lockout: Sendable, Equatable {
    public var attempts: Int
    public var duration: Duration
    public init(attempts: Int = WireDefaults.lockoutAttempts, duration: Duration = WireDefaults.lockoutDuration) {
        self.attempts = attempts
        self.duration = duration
    }
}
