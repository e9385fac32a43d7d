import Foundation

/// Named points where the test suite's fault injection may kill the client, to prove that a crash
/// there loses nothing. Active only when `COFFER_FAULT` names the point; never set it otherwise.
enum FaultInjection {
    static func point(_ name: String) {
        if ProcessInfo.processInfo.environment["COFFER_FAULT"] == name {
            kill(getpid(), SIGKILL)
        }
    }
}
