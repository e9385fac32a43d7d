/// Constants of the Coffer container format, versions 1 and 2. `docs/FORMAT.md` is the normative text.
public enum ContainerFormat {
    /// The seven bytes every container starts with: `COFFER` and a zero byte; the format version follows.
    static let magicPrefix: [UInt8] = Array("COFFER".utf8) + [0x00]
    /// The eight bytes a container of `version` starts with.
    static func magic(_ version: UInt8) -> [UInt8] { magicPrefix + [version] }
    /// The format version this build writes.
    public static let version: UInt8 = 2
    /// The format versions this build reads.
    public static let readableVersions: ClosedRange<UInt8> = 1...2
    /// HPKE P-256 / HKDF-SHA256 / AES-256-GCM key wrap; AES-256-GCM chunked payload.
    public static let suiteP256AES256GCM: UInt16 = 1
    /// Plaintext bytes per payload chunk.
    public static let chunkSize = 65_536
    /// Bytes of authentication tag after each chunk.
    public static let tagSize = 16
    /// Bytes of a record id.
    public static let recordIDSize = 16
    /// Bytes of an encode-key id (SHA-256 of the encode key).
    public static let keyIDSize = 32
    /// Bytes of the random payload salt.
    public static let saltSize = 32
    /// Bytes of an HPKE P-256 encapsulated key (uncompressed point).
    public static let encapsulatedKeySize = 65
    /// Bytes of the wrapped 32-byte file key (ciphertext and tag).
    public static let wrappedKeySize = 48
    /// The largest receipt a container may carry.
    public static let maxReceiptSize = 65_536
    /// Bytes of the header MAC.
    public static let macSize = 32
    /// Version 1: bytes of the header up to and including the receipt length (the receipt and MAC follow).
    public static let fixedHeaderSize = 8 + 2 + 4 + recordIDSize + keyIDSize + saltSize + encapsulatedKeySize + 2
        + wrappedKeySize + 4
    /// Version 2: bytes of the payload prefix (magic, suite, chunk size, salt), known before the
    /// payload is sealed and its chunks' associated data.
    public static let payloadPrefixSize = 8 + 2 + 4 + saltSize
    /// Version 2: bytes of the fixed header region the payload follows (MAC included); the
    /// receipt comes after the payload.
    public static let headerSizeV2 = payloadPrefixSize + 8 + recordIDSize + keyIDSize + encapsulatedKeySize + 2
        + wrappedKeySize + 4 + macSize
    /// The largest plaintext a version 2 container may declare (2^53 bytes, so that sizes stay exact
    /// in every language's numbers).
    public static let maxPlaintextSizeV2: Int64 = 1 << 53

    /// Bytes of sealed payload for `size` bytes of plaintext: every chunk's tag, at least one chunk.
    public static func sealedPayloadSize(plaintextSize size: Int64) -> Int64 {
        let chunks = max(1, (size + Int64(chunkSize) - 1) / Int64(chunkSize))
        return size + chunks * Int64(tagSize)
    }

    /// The HPKE info label, header-key and payload-key HKDF labels of `version`.
    static func hpkeInfo(_ version: UInt8) -> [UInt8] { Array("coffer v\(version) file key".utf8) }
    static func headerKeyInfo(_ version: UInt8) -> [UInt8] { Array("coffer v\(version) header".utf8) }
    static func payloadKeyInfo(_ version: UInt8) -> [UInt8] { Array("coffer v\(version) payload".utf8) }
}
