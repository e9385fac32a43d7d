/// The byte layouts of the two format versions (docs/FORMAT.md): which header bytes the HPKE wrap
/// binds, which the MAC covers, which the payload chunks authenticate, and where each part lies.
extension ContainerHeader {
    /// The header bytes bound into the HPKE key schedule after the info label.
    ///
    /// Version 1: magic through salt. Version 2: magic through encode key id (the payload prefix,
    /// the plaintext size, the record id and the key id).
    var boundPrefix: [UInt8] {
        if version == 1 {
            return Self.formatPrefix(version: 1) + recordID + encodeKeyID + salt
        }
        var out = Self.payloadPrefix(salt: salt)
        out.appendBigEndian(UInt64(plaintextSize ?? 0))
        return out + recordID + encodeKeyID
    }

    /// Magic, version, suite and chunk size: the first 14 bytes of every container.
    static func formatPrefix(version: UInt8) -> [UInt8] {
        var out = ContainerFormat.magic(version)
        out.appendBigEndian(ContainerFormat.suiteP256AES256GCM)
        out.appendBigEndian(UInt32(ContainerFormat.chunkSize))
        return out
    }

    /// The fields after the bound prefix up to the receipt: the HPKE wrap and the receipt length.
    private var keyFields: [UInt8] {
        var out = boundPrefix
        out += encapsulatedKey
        out.appendBigEndian(UInt16(wrappedFileKey.count))
        out += wrappedFileKey
        out.appendBigEndian(UInt32(receipt.count))
        return out
    }

    /// The header bytes covered by the MAC: every header byte before it, then (version 2) the receipt.
    var authenticatedBytes: [UInt8] { keyFields + receipt }

    /// The associated data of every payload chunk.
    ///
    /// Version 1: the header MAC. Version 2: the payload prefix (magic, suite, chunk size, salt),
    /// which the writer knows before it has a record id or a receipt.
    var payloadAssociatedData: [UInt8] {
        version == 1 ? mac : Self.payloadPrefix(salt: salt)
    }

    /// Version 2: the first 46 bytes of a container whose salt is `salt`.
    static func payloadPrefix(salt: [UInt8]) -> [UInt8] { formatPrefix(version: 2) + salt }

    /// The bytes that precede the payload: version 1's whole header; version 2's fixed region
    /// (its receipt follows the payload, see ``trailer``).
    public var leadingBytes: [UInt8] {
        version == 1 ? keyFields + receipt + mac : keyFields + mac
    }

    /// The bytes that follow the payload: version 2's receipt; nothing in version 1.
    public var trailer: [UInt8] { version == 1 ? [] : receipt }

    /// Bytes of sealed payload between ``leadingBytes`` and ``trailer``; `nil` in version 1, whose
    /// payload runs to the end of the input.
    public var sealedPayloadSize: Int64? {
        plaintextSize.map { ContainerFormat.sealedPayloadSize(plaintextSize: $0) }
    }
}
