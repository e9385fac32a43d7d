public import Crypto
public import Foundation

/// Streams plaintext into a container and back, one chunk in memory at a time.
public enum ContainerStream {
    /// Progress reports: bytes of plaintext processed so far.
    public typealias Progress = (Int64) -> Void

    /// Chunks read, sealed and handed on together by ``sealPayload(from:into:to:progress:)``.
    static let chunksPerBatch = 16

    /// Seals everything `source` holds through `writer` into `sink`, reading and writing 16 chunks
    /// (1 MiB) at a time; the caller then finishes the writer.
    ///
    /// - Returns: The number of plaintext bytes.
    @discardableResult
    public static func sealPayload(
        from source: inout some ByteSource,
        into writer: inout ContainerWriter,
        to sink: inout some ByteSink,
        progress: Progress? = nil
    ) throws -> Int64 {
        try forEachBlock(of: &source, size: chunksPerBatch * ContainerFormat.chunkSize, progress: progress) { batch, isLast in
            try writer.append(batch: batch, isLastBatch: isLast, to: &sink)
        }
    }

    /// Writes a whole version 2 container of what `source` holds to `sink`, when the record id,
    /// encode key and receipt are known before the payload is sealed.
    ///
    /// - Returns: The header written.
    @discardableResult
    public static func seal(
        from source: inout some ByteSource,
        to sink: inout some PositionalByteSink,
        recordID: [UInt8],
        encodeKey: P256.KeyAgreement.PublicKey,
        receipt: [UInt8],
        progress: Progress? = nil
    ) throws -> ContainerHeader {
        var writer = try ContainerWriter(to: &sink)
        try sealPayload(from: &source, into: &writer, to: &sink, progress: progress)
        return try writer.finish(recordID: recordID, encodeKey: encodeKey, receipt: receipt, to: &sink)
    }

    /// Writes a version 1 container, for test vectors and compatibility tests only.
    static func sealVersion1(
        from source: inout some ByteSource,
        to sink: inout some ByteSink,
        header: ContainerHeader,
        fileKey: SymmetricKey
    ) throws {
        var cipher = ChunkCipher(header: header, fileKey: fileKey)
        try sink.write(header.serialized)
        try forEachBlock(of: &source, size: ContainerFormat.chunkSize, progress: nil) { chunk, isLast in
            try sink.write(try cipher.seal(chunk, isLast: isLast))
        }
    }

    /// Cuts `source` into blocks of `size` bytes, every one but the last full and the last marked
    /// (it is the last when nothing follows it, so a full block can be the last); one empty block
    /// for an empty input. `size` is a multiple of the chunk size, so chunk boundaries fall alike.
    @discardableResult
    private static func forEachBlock(
        of source: inout some ByteSource,
        size: Int,
        progress: Progress?,
        _ body: (_ block: [UInt8], _ isLast: Bool) throws -> Void
    ) throws -> Int64 {
        var current = try source.read(upTo: size)
        var total: Int64 = 0
        while true {
            let next = current.count == size ? try source.read(upTo: size) : []
            let isLast = next.isEmpty
            try body(current, isLast)
            total += Int64(current.count)
            progress?(total)
            if isLast { return total }
            current = next
        }
    }

    /// Reads a container's header from `source` and leaves it at the first payload chunk.
    ///
    /// A version 2 container's receipt is read from its end, and its size is checked against the
    /// size its header declares, before any chunk is read.
    public static func readHeader(from source: inout some RandomAccessByteSource) throws -> ContainerHeader {
        let start = try source.read(upTo: 8)
        let (_, leadingSize) = try ContainerHeader.leadingSize(of: start)
        let leading = start + (try source.read(upTo: leadingSize - start.count))
        var (header, receiptLength) = try ContainerHeader.parseLeading(leading)
        if header.version == 1 {
            let rest = try source.read(upTo: receiptLength + ContainerFormat.macSize)
            guard rest.count == receiptLength + ContainerFormat.macSize else {
                throw ContainerError(.truncated, "the container is truncated inside its header")
            }
            header.receipt = Array(rest.prefix(receiptLength))
            header.mac = Array(rest.suffix(ContainerFormat.macSize))
            return header
        }
        let payloadEnd = try header.checkTotalSize(try source.size(), receiptLength: receiptLength)
        header.receipt = try source.read(at: payloadEnd, count: receiptLength)
        guard header.receipt.count == receiptLength else {
            throw ContainerError(.truncated, "the container is truncated inside its receipt")
        }
        return header
    }

    /// Opens the payload that follows an already read and authenticated header, handing each chunk
    /// of plaintext to `chunk` as it authenticates, with whether it is the last one.
    ///
    /// Chunk boundaries are those of the container: every chunk but the last holds exactly
    /// ``ContainerFormat/chunkSize`` bytes, so the chunks can be sealed straight into another
    /// container. A version 2 payload ends where its header says; the receipt after it is not read.
    /// On any error the caller must discard what it was given.
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
        var remaining = header.sealedPayloadSize ?? .max
        func readChunk() throws -> [UInt8] {
            let bytes = try source.read(upTo: Int(min(Int64(sealedChunk), remaining)))
            remaining -= Int64(bytes.count)
            return bytes
        }
        var total: Int64 = 0
        // Two buffers, so that whether a chunk is the last one is known without joining reads: it
        // is when nothing follows it.
        var current = try readChunk()
        if current.isEmpty {
            throw ContainerError(.truncated, "the container is truncated: it has no payload")
        }
        while true {
            let next = current.count == sealedChunk ? try readChunk() : []
            let isLast = next.isEmpty
            let plaintext = try cipher.open(current, isLast: isLast)
            try chunk(plaintext, isLast)
            total += Int64(plaintext.count)
            progress?(total)
            if isLast { break }
            current = next
        }
        if let declared = header.plaintextSize, declared != total {
            throw ContainerError(.truncated, "the container's payload holds \(total) bytes and its header says \(declared)")
        }
        return total
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
