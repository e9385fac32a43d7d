/// Constants of the Coffer container format, version 1. `docs/FORMAT.md` is the normative text.
public enum ContainerFormat {
    /// The eight bytes every container starts with: `COFFER`, a zero byte, the format version.
    public static let magic: [UInt8] = Array("COFFER".utf8) + [0x00, version]
    /// The format version this build writes and reads.
    public static let version: UInt8 = 1
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
    /// Bytes of the fixed part of the header, up to and including the receipt length.
    public static let fixedHeaderSize = 8 + 2 + 4 + recordIDSize + keyIDSize + saltSize + encapsulatedKeySize + 2
        + wrappedKeySize + 4

    static let hpkeInfo = Array("coffer v1 file key".utf8)
    static let headerKeyInfo = Array("coffer v1 header".utf8)
    static let payloadKeyInfo = Array("coffer v1 payload".utf8)
}
