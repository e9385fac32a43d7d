public import Crypto
import Foundation

/// Streams plaintext into a container and back, one chunk in memory at a time.
public enum ContainerStream {
    /// Progress reports: bytes of plaintext processed so far.
    public typealias Progress = (Int64) -> Void

    /// Writes `header` and the sealed payload read from `source` to `sink`.
    ///
    /// - Returns: The number of plaintext bytes.
    @discardableResult
    public static func seal(
        from source: inout some ByteSource,
        to sink: inout some ByteSink,
        header: ContainerHeader,
        fileKey: SymmetricKey,
        progress: Progress? = nil
    ) throws -> Int64 {
        try sink.write(header.serialized)
        var cipher = ChunkCipher(header: header, fileKey: fileKey)
        var current = try source.read(upTo: ContainerFormat.chunkSize)
        var total: Int64 = 0
        while true {
            // A full chunk is the last one only when nothing follows it.
            let next = current.count == ContainerFormat.chunkSize ? try source.read(upTo: ContainerFormat.chunkSize) : []
            let isLast = next.isEmpty
            try sink.write(Array(cipher.seal(current, isLast: isLast)))
            total += Int64(current.count)
            progress?(total)
            if isLast { return total }
            current = next
        }
    }

    /// Reads a container header from `source`.
    public static func readHeader(from source: inout some ByteSource) throws -> ContainerHeader {
        let fixed = try source.read(upTo: ContainerFormat.fixedHeaderSize)
        let (_, receiptLength) = try ContainerHeader.parseFixed(fixed)
        let rest = try source.read(upTo: receiptLength + ContainerFormat.macSize)
        return try ContainerHeader.parse(fixed + rest).header
    }

    /// Opens the payload that follows an already read and authenticated header.
    ///
    /// Plaintext goes to `sink` as each chunk authenticates; on any error the caller must discard
    /// what was written.
    ///
    /// - Returns: The SHA-256 of the plaintext and its length.
    public static func open(
        from source: inout some ByteSource,
        to sink: inout some ByteSink,
        header: ContainerHeader,
        fileKey: SymmetricKey,
        progress: Progress? = nil
    ) throws -> (sha256: SHA256Digest, size: Int64) {
        let sealedChunk = ContainerFormat.chunkSize + ContainerFormat.tagSize
        var cipher = ChunkCipher(header: header, fileKey: fileKey)
        var hasher = SHA256()
        var total: Int64 = 0
        var buffer = try source.read(upTo: sealedChunk + 1)
        if buffer.isEmpty {
            throw ContainerError(.truncated, "the container is truncated: it has no payload")
        }
        while true {
            if buffer.count <= sealedChunk {
                let plaintext = try cipher.open(buffer, isLast: true)
                hasher.update(data: plaintext)
                try sink.write(Array(plaintext))
                total += Int64(plaintext.count)
                progress?(total)
                return (hasher.finalize(), total)
            }
            let plaintext = try cipher.open(buffer[0..<sealedChunk], isLast: false)
            hasher.update(data: plaintext)
            try sink.write(Array(plaintext))
            total += Int64(plaintext.count)
            progress?(total)
            buffer = Array(buffer[sealedChunk...]) + (try source.read(upTo: sealedChunk))
        }
    }
}
