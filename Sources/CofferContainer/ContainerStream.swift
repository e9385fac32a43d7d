public import Crypto
public import Foundation

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
        var writer = try ContainerWriter(header: header, fileKey: fileKey, to: &sink)
        var current = try source.read(upTo: ContainerFormat.chunkSize)
        var total: Int64 = 0
        while true {
            // A full chunk is the last one only when nothing follows it.
            let next = current.count == ContainerFormat.chunkSize ? try source.read(upTo: ContainerFormat.chunkSize) : []
            let isLast = next.isEmpty
            try writer.append(current, isLast: isLast, to: &sink)
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

    /// Opens the payload that follows an already read and authenticated header, handing each chunk
    /// of plaintext to `chunk` as it authenticates, with whether it is the last one.
    ///
    /// Chunk boundaries are those of the container: every chunk but the last holds exactly
    /// ``ContainerFormat/chunkSize`` bytes, so the chunks can be sealed straight into another
    /// container. On any error the caller must discard what it was given.
    ///
    /// - Returns: The number of plaintext bytes.
    @discardableResult
    public static func open(
        from source: inout some ByteSource,
        header: ContainerHeader,
        fileKey: SymmetricKey,
        progress: Progress? = nil,
        chunk: (_ plaintext: Data, _ isLast: Bool) throws -> Void
    ) throws -> Int64 {
        let sealedChunk = ContainerFormat.chunkSize + ContainerFormat.tagSize
        var cipher = ChunkCipher(header: header, fileKey: fileKey)
        var total: Int64 = 0
        // Two buffers, so that whether a chunk is the last one is known without joining reads: it
        // is when nothing follows it.
        var current = try source.read(upTo: sealedChunk)
        if current.isEmpty {
            throw ContainerError(.truncated, "the container is truncated: it has no payload")
        }
        while true {
            let next = current.count == sealedChunk ? try source.read(upTo: sealedChunk) : []
            let isLast = next.isEmpty
            let plaintext = try cipher.open(current, isLast: isLast)
            try chunk(plaintext, isLast)
            total += Int64(plaintext.count)
            progress?(total)
            if isLast { return total }
            current = next
        }
    }

    /// Opens the payload that follows an already read and authenticated header into `sink`,
    /// hashing the plaintext on another thread.
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
        let hasher = ParallelHasher()
        let size = try open(from: &source, header: header, fileKey: fileKey, progress: progress) { plaintext, _ in
            hasher.update(plaintext)
            try sink.write(plaintext)
        }
        return (hasher.finalize().sha256, size)
    }
}
