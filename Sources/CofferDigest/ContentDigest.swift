import Crypto

/// The SHA-256 of a byte stream fed in pieces: what a central copy's bytes are committed under.
///
/// The one door through which the private tier hashes content. It hashes; it holds no key.
public struct ContentDigest: Sendable {
    private var hasher = SHA256()
    /// How many bytes were fed.
    public private(set) var count: Int64 = 0

    public init() {}

    /// Feeds the next bytes.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Feeds the next bytes, from memory someone else owns.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: buffer)
        count += Int64(buffer.count)
    }

    /// The SHA-256 of everything fed (the state is left as it was).
    public func finalize() -> [UInt8] { Array(hasher.finalize()) }

    /// The SHA-256 of `bytes`.
    public static func of(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

    /// The size of every digest.
    public static let size = 32
}
