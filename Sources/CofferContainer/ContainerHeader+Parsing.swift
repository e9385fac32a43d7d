extension ContainerHeader {
    /// Parses the header of a whole container held in memory.
    ///
    /// - Returns: The header and where its sealed payload lies in `bytes`.
    /// - Throws: ``ContainerError`` `.notAContainer`, `.unsupportedVersion`, `.malformedHeader`,
    ///   `.truncated` when `bytes` ends inside the header (or, in version 2, before its receipt ends)
    ///   or `.trailingData` when a version 2 container has bytes after its receipt.
    public static func parse(_ bytes: [UInt8]) throws -> (header: ContainerHeader, payload: Range<Int>) {
        var source = MemorySource(bytes)
        let header = try ContainerStream.readHeader(from: &source)
        guard let payload = header.sealedPayloadSize else {
            return (header, (ContainerFormat.fixedHeaderSize + header.receipt.count + ContainerFormat.macSize)..<bytes.count)
        }
        return (header, ContainerFormat.headerSizeV2..<(ContainerFormat.headerSizeV2 + Int(payload)))
    }

    /// Reads the magic and version at the start of `bytes` and says how many bytes the part of the
    /// header before the receipt (version 1) or before the payload (version 2) takes.
    static func leadingSize(of bytes: [UInt8]) throws -> (version: UInt8, size: Int) {
        guard bytes.count >= 7, Array(bytes.prefix(7)) == ContainerFormat.magicPrefix else {
            throw ContainerError(.notAContainer, "this is not a Coffer container (no COFFER magic at the start)")
        }
        guard bytes.count >= 8 else {
            throw ContainerError(.truncated, "the container is truncated inside its header")
        }
        switch bytes[7] {
        case 1: return (1, ContainerFormat.fixedHeaderSize)
        case 2: return (2, ContainerFormat.headerSizeV2)
        default:
            throw ContainerError(.unsupportedVersion, "container format version \(bytes[7]) is not supported by this coffer (it reads versions \(ContainerFormat.readableVersions.lowerBound) to \(ContainerFormat.readableVersions.upperBound)); upgrade coffer")
        }
    }

    /// Parses the part of the header whose size ``leadingSize(of:)`` gave and returns how many
    /// bytes of receipt there are: they follow at once in version 1, with the MAC after them; they
    /// end the container in version 2, whose MAC is in this part.
    static func parseLeading(_ bytes: [UInt8]) throws -> (header: ContainerHeader, receiptLength: Int) {
        let (version, size) = try leadingSize(of: bytes)
        guard bytes.count >= size else {
            throw ContainerError(.truncated, "the container is truncated inside its header")
        }
        var reader = ByteReader(bytes: bytes, offset: 8)
        let suite = reader.readUInt16()
        guard suite == ContainerFormat.suiteP256AES256GCM else {
            throw ContainerError(.malformedHeader, "unknown cipher suite \(suite) in the container header")
        }
        let chunkSize = reader.readUInt32()
        guard chunkSize == ContainerFormat.chunkSize else {
            throw ContainerError(.malformedHeader, "chunk size \(chunkSize) in the container header is not \(ContainerFormat.chunkSize)")
        }
        var header = ContainerHeader(version: version, recordID: [], encodeKeyID: [], salt: [], plaintextSize: nil,
                                     encapsulatedKey: [], wrappedFileKey: [], receipt: [], mac: [])
        if version == 1 {
            header.recordID = reader.read(ContainerFormat.recordIDSize)
            header.encodeKeyID = reader.read(ContainerFormat.keyIDSize)
            header.salt = reader.read(ContainerFormat.saltSize)
        } else {
            header.salt = reader.read(ContainerFormat.saltSize)
            let plaintextSize = reader.readUInt64()
            guard plaintextSize <= UInt64(ContainerFormat.maxPlaintextSizeV2) else {
                throw ContainerError(.malformedHeader, "plaintext size \(plaintextSize) in the container header exceeds \(ContainerFormat.maxPlaintextSizeV2)")
            }
            header.plaintextSize = Int64(plaintextSize)
            header.recordID = reader.read(ContainerFormat.recordIDSize)
            header.encodeKeyID = reader.read(ContainerFormat.keyIDSize)
        }
        header.encapsulatedKey = reader.read(ContainerFormat.encapsulatedKeySize)
        let wrappedLength = Int(reader.readUInt16())
        guard wrappedLength == ContainerFormat.wrappedKeySize else {
            throw ContainerError(.malformedHeader, "wrapped key length \(wrappedLength) in the container header is not \(ContainerFormat.wrappedKeySize)")
        }
        header.wrappedFileKey = reader.read(ContainerFormat.wrappedKeySize)
        let receiptLength = Int(reader.readUInt32())
        guard receiptLength <= ContainerFormat.maxReceiptSize else {
            throw ContainerError(.malformedHeader, "receipt length \(receiptLength) in the container header exceeds \(ContainerFormat.maxReceiptSize)")
        }
        if version == 2 { header.mac = reader.read(ContainerFormat.macSize) }
        return (header, receiptLength)
    }

    /// Version 2: checks that a container of `total` bytes is exactly header, payload and receipt,
    /// and returns where the payload ends (the receipt starts).
    func checkTotalSize(_ total: Int64, receiptLength: Int) throws -> Int64 {
        guard let payload = sealedPayloadSize else { return total }
        let payloadEnd = Int64(ContainerFormat.headerSizeV2) + payload
        let expected = payloadEnd + Int64(receiptLength)
        if total < expected {
            throw ContainerError(.truncated, "the container is truncated: its header promises \(expected) bytes and it holds \(total)")
        }
        if total > expected {
            throw ContainerError(.trailingData, "the container has \(total - expected) bytes after its receipt")
        }
        return payloadEnd
    }
}

/// Reads big-endian fields from a byte array whose length the caller has already checked.
struct ByteReader {
    let bytes: [UInt8]
    var offset: Int

    mutating func read(_ count: Int) -> [UInt8] {
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func readUInt16() -> UInt16 {
        read(2).reduce(0) { $0 << 8 | UInt16($1) }
    }

    mutating func readUInt32() -> UInt32 {
        read(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func readUInt64() -> UInt64 {
        read(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
