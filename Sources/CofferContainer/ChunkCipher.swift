public import Crypto
public import Foundation

/// Seals and opens the payload chunks of one container, in order.
///
/// Chunk *i* is AES-256-GCM under the payload key with nonce = 11-byte big-endian *i* ‖ last-flag,
/// and the header MAC (version 1) or the payload prefix (version 2) as associated data. Reordering,
/// dropping, duplicating or truncating chunks makes a chunk fail to open.
public struct ChunkCipher: Sendable {
    private let key: SymmetricKey
    private let associatedData: Data
    private var counter: UInt64 = 0
    private var finished = false

    /// Creates the cipher for a container whose header is `header` and whose file key is `fileKey`.
    public init(header: ContainerHeader, fileKey: SymmetricKey) {
        self.init(key: ContainerHeader.payloadKey(fileKey: fileKey, salt: header.salt, version: header.version),
                  associatedData: header.payloadAssociatedData)
    }

    /// Creates the cipher from the payload key and the chunks' associated data.
    init(key: SymmetricKey, associatedData: [UInt8]) {
        self.key = key
        self.associatedData = Data(associatedData)
    }

    /// The index of the next chunk.
    public var nextIndex: UInt64 { counter }

    /// Seals the next chunk of plaintext (at most ``ContainerFormat/chunkSize`` bytes) and returns
    /// its ciphertext followed by its tag: a view of the sealed box's own bytes, not a copy.
    public mutating func seal(_ plaintext: some DataProtocol, isLast: Bool) throws -> Data {
        precondition(!finished, "sealing after the last chunk")
        precondition(plaintext.count <= ContainerFormat.chunkSize, "chunk larger than the chunk size")
        let box = try AES.GCM.seal(plaintext, using: key, nonce: nonce(isLast: isLast), authenticating: associatedData)
        advance(isLast: isLast)
        // A 12-byte nonce always gives the combined form: nonce ‖ ciphertext ‖ tag.
        guard let combined = box.combined else { return box.ciphertext + box.tag }
        return combined.dropFirst(12)
    }

    /// Opens the next chunk (ciphertext followed by its 16-byte tag).
    ///
    /// - Throws: ``ContainerError`` `.chunkAuthenticationFailed` when the chunk was altered, moved,
    ///   or is not the last chunk although `isLast` says so (a truncation).
    public mutating func open(_ sealed: some DataProtocol, isLast: Bool) throws -> Data {
        guard !finished else {
            throw ContainerError(.trailingData, "the container has data after its last chunk")
        }
        guard sealed.count >= ContainerFormat.tagSize,
              sealed.count <= ContainerFormat.chunkSize + ContainerFormat.tagSize
        else {
            throw ContainerError(.truncated, "the container is truncated: chunk \(counter) is too short")
        }
        let split = sealed.count - ContainerFormat.tagSize
        guard split > 0 || counter == 0 else {
            // Only an empty file has an empty chunk, as its only one: a full chunk is the last one
            // itself, so that every plaintext has exactly one encoding.
            throw ContainerError(.trailingData, "the container has an empty chunk after chunk \(counter - 1)")
        }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: nonce(isLast: isLast),
                ciphertext: sealed.prefix(split),
                tag: sealed.suffix(ContainerFormat.tagSize)
            )
            let plaintext = try AES.GCM.open(box, using: key, authenticating: associatedData)
            advance(isLast: isLast)
            return plaintext
        } catch {
            if isLast {
                throw ContainerError(.truncated, "the container is truncated or altered: chunk \(counter) is not a valid last chunk")
            }
            throw ContainerError(.chunkAuthenticationFailed, "the container was altered: chunk \(counter) does not authenticate")
        }
    }

    private func nonce(isLast: Bool) -> AES.GCM.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        var value = counter
        for i in stride(from: 10, through: 3, by: -1) {
            bytes[i] = UInt8(truncatingIfNeeded: value)
            value >>= 8
        }
        bytes[11] = isLast ? 1 : 0
        // Nonce(data:) only fails for a length other than 12.
        return try! AES.GCM.Nonce(data: bytes)
    }

    private mutating func advance(isLast: Bool) {
        counter += 1
        finished = isLast
    }
}
