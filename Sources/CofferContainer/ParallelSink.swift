import Dispatch
public import Foundation

/// A sink that writes on a thread of its own, so that writing (a kernel copy per byte) runs on one
/// core while the caller reads, encrypts or hashes on another.
///
/// Each write is queued (copied first, unless handed over with ``write(owned:)``); at most `depth` wait, beyond that ``write(_:)-(UnsafeRawBufferPointer)``
/// blocks the caller, so memory stays bounded. The first error is kept: later writes are dropped,
/// and ``finish()`` throws it.
public final class ParallelSink<Base: ByteSink & SendableMetatype>: ByteSink, @unchecked Sendable {
    // `base` and `failure` are touched only on `queue`.
    private let queue = DispatchQueue(label: "coffer.parallel-sink")
    private let slots: DispatchSemaphore
    private var base: Base
    private var failure: (any Error)?

    /// What owns the descriptor `base` writes to (an output file), kept alive until every queued
    /// write has run: a caller that gives up midway must not close it under a pending write.
    private let owner: AnyObject?

    /// - Parameters:
    ///   - depth: How many writes may wait.
    ///   - owner: What must outlive the queued writes, such as the file `base` writes to.
    public init(_ base: Base, depth: Int = 16, keepingAlive owner: AnyObject? = nil) {
        precondition(depth > 0)
        self.base = base
        self.slots = DispatchSemaphore(value: depth)
        self.owner = owner
    }

    /// On `queue`: runs one queued write, unless an earlier write failed.
    private func runQueued(_ write: (inout Base) throws -> Void) {
        defer { slots.signal() }
        guard failure == nil else { return }
        do {
            try write(&base)
        } catch {
            failure = error
        }
    }

    /// Queues `write` after every write queued before it.
    fileprivate func enqueue(_ write: @escaping @Sendable (inout Base) throws -> Void) {
        slots.wait()
        queue.async { [self] in runQueued(write) }
    }

    public func write(_ buffer: UnsafeRawBufferPointer) throws {
        try write(owned: [Data(buffer)])
    }

    /// Queues `pieces` without copying them.
    public func write(owned pieces: [Data]) throws {
        enqueue { base in try base.write(owned: pieces) }
    }

    /// Waits until everything queued is written; throws the first write error.
    public func finish() throws {
        if let error = queue.sync(execute: { failure }) { throw error }
    }
}

extension ParallelSink: PositionalByteSink where Base: PositionalByteSink {
    /// Queues a write at `offset` after every write queued before it.
    public func write(_ bytes: [UInt8], at offset: Int64) throws {
        enqueue { base in try base.write(bytes, at: offset) }
    }
}
