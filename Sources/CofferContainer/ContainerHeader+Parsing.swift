extension ContainerHeader {
    /// Parses a header from the start of `bytes`.
    ///
    /// - Returns: The header and how many bytes it took.
    /// - Throws: ``ContainerError`` `.notAContainer`, `.unsupportedVersion`, `.malformedHeader`
    ///   or `.truncated` when `bytes` ends inside the header.
    public static func parse(_ bytes: [UInt8]) throws -> (header: ContainerHeader, length: Int) {
        let remainder = try parseFixed(bytes)
        let total = ContainerFormat.fixedHeaderSize + remainder.receiptLength + ContainerFormat.macSize
        guard bytes.count >= total else {
            throw ContainerError(.truncated, "the container is truncated inside its header")
        }
        var header = remainder.header
        var cursor = ContainerFormat.fixedHeaderSize
        header.receipt = Array(bytes[cursor..<(cursor + remainder.receiptLength)])
        cursor += remainder.receiptLength
        header.mac = Array(bytes[cursor..<(cursor + ContainerFormat.macSize)])
        return (header, total)
    }

    /// Parses the fixed-size part of the header and returns how many bytes of receipt follow.
    static func parseFixed(_ bytes: [UInt8]) throws -> (header: ContainerHeader, receiptLength: Int) {
        let magicPrefix = Array(ContainerFormat.magic.prefix(7))
        guard bytes.count >= 7, Array(bytes.prefix(7)) == magicPrefix else {
            throw ContainerError(.notAContainer, "this is not a Coffer container (no COFFER magic at the start)")
        }
        guard bytes.count >= 8 else {
            throw ContainerError(.truncated, "the container is truncated inside its header")
        }
        guard bytes[7] == ContainerFormat.version else {
            throw ContainerError(.unsupportedVersion, "container format version \(bytes[7]) is not supported by this coffer (it reads version \(ContainerFormat.version)); upgrade coffer")
        }
        guard bytes.count >= ContainerFormat.fixedHeaderSize else {
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
        let recordID = reader.read(ContainerFormat.recordIDSize)
        let keyID = reader.read(ContainerFormat.keyIDSize)
        let salt = reader.read(ContainerFormat.saltSize)
        let enc = reader.read(ContainerFormat.encapsulatedKeySize)
        let wrappedLength = Int(reader.readUInt16())
        guard wrappedLength == ContainerFormat.wrappedKeySize else {
            throw ContainerError(.malformedHeader, "wrapped key length \(wrappedLength) in the container header is not \(ContainerFormat.wrappedKeySize)")
        }
        let wrapped = reader.read(ContainerFormat.wrappedKeySize)
        let receiptLength = Int(reader.readUInt32())
        guard receiptLength <= ContainerFormat.maxReceiptSize else {
            throw ContainerError(.malformedHeader, "receipt length \(receiptLength) in the container header exceeds \(ContainerFormat.maxReceiptSize)")
        }
        let header = ContainerHeader(
            recordID: recordID,
            encodeKeyID: keyID,
            salt: salt,
            encapsulatedKey: enc,
            wrappedFileKey: wrapped,
            receipt: [],
            mac: []
        )
        return (header, receiptLength)
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
}
