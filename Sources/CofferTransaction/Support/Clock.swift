import Foundation

/// The wall clock in the units the tier protocol uses.
enum Clock {
    /// Now, in Unix milliseconds.
    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
