public import Crypto
import Dispatch
public import Foundation

/// SHA-256 computed on a thread of its own, so that hashing runs on one core while the caller
/// reads, encrypts or writes on another.
///
/// Blocks are hashed in the order they are given. At most `depth` blocks wait to be hashed;
/// ``update(_:)`` blocks the caller beyond that, so memory stays bounded whatever the
/// input size.
public final class ParallelHasher: @unchecked Sendable {
    // `hasher` and `count` are touched only on `queue`.
    private let queue = DispatchQueue(label: "coffer.parallel-hasher")
    private let slots: DispatchSemaphore
    private var hasher = SHA256()
    private var count: Int64 = 0

    /// - Parameter depth: How many blocks may wait to be hashed.
    public init(depth: Int = 16) {
        precondition(depth > 0)
        slots = DispatchSemaphore(value: depth)
    }

    /// Hashes `bytes` (an array or `Data`) after every block given before.
    public func update<Bytes: DataProtocol & Sendable>(_ bytes: Bytes) {
        slots.wait()
        queue.async { [self] in
            hasher.update(data: bytes)
            count += Int64(bytes.count)
            slots.signal()
        }
    }

    /// Waits for every block given so far and returns the digest and the number of bytes hashed.
    public func finalize() -> (sha256: SHA256Digest, count: Int64) {
        queue.sync { (hasher.finalize(), count) }
    }
}
