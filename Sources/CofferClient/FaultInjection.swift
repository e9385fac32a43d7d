import Foundation

/// Named points where the test suite's fault injection may kill the client, to prove that a crash
/// there loses nothing. Active only when `COFFER_FAULT` names the point; never set it otherwise.
enum FaultInjection {
    static func point(_ name: String) {
        if ProcessInfo.processInfo.environment["COFFER_FAULT"] == name {
            kill(getpid(), SIGKILL)
        }
    }

    /// Like ``point(_:)``, but first gives the peer `seconds` to take in what was already sent: a
    /// killed process's socket is reset, and a reset drops whatever the peer had not yet read.
    static func point(_ name: String, after seconds: Double) {
        if ProcessInfo.processInfo.environment["COFFER_FAULT"] == name {
            Thread.sleep(forTimeInterval: seconds)
            kill(getpid(), SIGKILL)
        }
    }
}
