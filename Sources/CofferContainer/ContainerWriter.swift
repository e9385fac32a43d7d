public import Crypto
public import Foundation

/// Writes one container: its header first, then its payload chunk by chunk.
///
/// Every chunk but the last must hold exactly ``ContainerFormat/chunkSize`` bytes of plaintext; the
/// last holds at most that many and is marked `isLast`.
public struct ContainerWriter {
    private var cipher: ChunkCipher

    /// Writes `header` to `sink`; the payload that follows is sealed under `fileKey`.
    public init(header: ContainerHeader, fileKey: SymmetricKey, to sink: inout some ByteSink) throws {
        self.cipher = ChunkCipher(header: header, fileKey: fileKey)
        try sink.write(header.serialized)
    }

    /// Seals the next chunk of plaintext and writes it to `sink`.
    public mutating func append(_ plaintext: some DataProtocol, isLast: Bool, to sink: inout some ByteSink) throws {
        let (ciphertext, tag) = try cipher.sealParts(plaintext, isLast: isLast)
        try sink.write(ciphertext)
        try sink.write(tag)
    }
}
