import Foundation

/// A flag one task sets and others read: how a test tells a load it started to stop.
public final class TestFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    public init() {}
    public var isSet: Bool { lock.withLock { value } }
    public func set() { lock.withLock { value = true } }
}
