public import Crypto
public import Foundation

/// Writes one version 2 container in a single pass: the payload first, under a fresh file key,
/// then — once the key service has answered — the receipt after it and the header in the region
/// reserved for it at the start.
///
/// Every chunk but the last must hold exactly ``ContainerFormat/chunkSize`` bytes of plaintext; the
/// last holds at most that many and is marked `isLast`. Nothing the writer produces is a container
/// until ``finish(recordID:encodeKey:receipt:to:)`` has run: the caller writes to a temporary file.
public struct ContainerWriter {
    private let fileKey: SymmetricKey
    private let salt: [UInt8]
    private var cipher: ChunkCipher
    private var plaintextSize: Int64 = 0
    private var sealedLast = false

    /// Reserves the header region at the start of `sink` (zeros until ``finish(recordID:encodeKey:receipt:to:)``)
    /// and makes the file key and salt the payload is sealed under.
    public init(to sink: inout some ByteSink) throws {
        fileKey = SymmetricKey(size: .bits256)
        salt = randomBytes(ContainerFormat.saltSize)
        cipher = ChunkCipher(key: ContainerHeader.payloadKey(fileKey: fileKey, salt: salt, version: 2),
                             associatedData: ContainerHeader.payloadPrefix(salt: salt))
        try sink.write([UInt8](repeating: 0, count: ContainerFormat.headerSizeV2))
    }

    /// Seals the next chunk of plaintext and writes it to `sink`.
    public mutating func append(_ plaintext: some DataProtocol, isLast: Bool, to sink: inout some ByteSink) throws {
        try sink.write(owned: [try seal(plaintext, isLast: isLast)])
    }

    /// Seals the next chunks of plaintext — every one full but, in the last batch, the last — and
    /// writes them to `sink` in one piece, so that a sink on another thread takes one hand-over
    /// per batch rather than per chunk.
    public mutating func append(batch plaintext: [UInt8], isLastBatch: Bool, to sink: inout some ByteSink) throws {
        let chunk = ContainerFormat.chunkSize
        let chunks = max(1, (plaintext.count + chunk - 1) / chunk)
        var sealed: [Data] = []
        sealed.reserveCapacity(chunks)
        try plaintext.withUnsafeBytes { bytes in
            for index in 0..<chunks {
                let range = (index * chunk)..<min(plaintext.count, (index + 1) * chunk)
                sealed.append(try seal(UnsafeRawBufferPointer(rebasing: bytes[range]), isLast: isLastBatch && index == chunks - 1))
            }
        }
        try sink.write(owned: sealed)
    }

    private mutating func seal(_ plaintext: some DataProtocol, isLast: Bool) throws -> Data {
        let sealed = try cipher.seal(plaintext, isLast: isLast)
        plaintextSize += Int64(plaintext.count)
        sealedLast = isLast
        return sealed
    }

    /// Completes the container once its last chunk is written: wraps the file key to `encodeKey`,
    /// appends `receipt` after the payload and writes the header at the start of `sink`.
    ///
    /// - Returns: The header written.
    @discardableResult
    public func finish(
        recordID: [UInt8],
        encodeKey: P256.KeyAgreement.PublicKey,
        receipt: [UInt8],
        to sink: inout some PositionalByteSink
    ) throws -> ContainerHeader {
        precondition(sealedLast, "finishing a container before its last chunk")
        let header = try ContainerHeader.seal(version: 2, fileKey: fileKey, salt: salt, recordID: recordID,
                                              encodeKey: encodeKey, receipt: receipt, plaintextSize: plaintextSize)
        try sink.write(header.trailer)
        try sink.write(header.leadingBytes, at: 0)
        return header
    }
}
