public import Crypto
import Foundation

/// The header of a Coffer container: what says which record it belongs to and carries the sealed
/// file key and the receipt. In version 1 it precedes the payload whole; in version 2 a fixed region
/// precedes the payload and the receipt follows it (``leadingBytes``, ``trailer``).
///
/// A parsed header is *not yet authenticated*: ``authenticate(fileKey:)`` checks its MAC once the
/// file key has been unwrapped with the decode key.
public struct ContainerHeader: Sendable, Hashable {
    /// The format version: 1 (read only) or 2 (written).
    public var version: UInt8
    /// The record this container belongs to, as the key service knows it.
    public var recordID: [UInt8]
    /// SHA-256 of the encode key's X9.63 representation.
    public var encodeKeyID: [UInt8]
    /// Random salt for the header and payload keys.
    public var salt: [UInt8]
    /// Version 2: the plaintext's length, which fixes the payload's length. `nil` in version 1.
    public var plaintextSize: Int64?
    /// HPKE encapsulated key.
    public var encapsulatedKey: [UInt8]
    /// The file key, sealed to the encode key with HPKE.
    public var wrappedFileKey: [UInt8]
    /// The server's receipt for this save (opaque to the container format).
    public var receipt: [UInt8]
    /// HMAC-SHA256 over the header bytes before it (and, in version 2, the receipt).
    public var mac: [UInt8]

    /// The whole header of a version 1 container, for the test-only version 1 writer (in version 2,
    /// ``leadingBytes`` and ``trailer`` surround the payload).
    var serialized: [UInt8] { leadingBytes + trailer }

    /// Completes a header for a payload already sealed under `fileKey` with `salt`, wrapping the
    /// file key to `encodeKey` and authenticating the header and receipt.
    ///
    /// - Parameters:
    ///   - version: 2 for everything this build writes; 1 only for test vectors and compatibility tests.
    ///   - recordID: The 16-byte record id from the save receipt.
    ///   - encodeKey: The per-file public key the key service returned.
    ///   - receipt: The receipt bytes to carry.
    ///   - plaintextSize: Version 2: the payload's plaintext length.
    static func seal(
        version: UInt8,
        fileKey: SymmetricKey,
        salt: [UInt8],
        recordID: [UInt8],
        encodeKey: P256.KeyAgreement.PublicKey,
        receipt: [UInt8],
        plaintextSize: Int64?
    ) throws -> ContainerHeader {
        guard recordID.count == ContainerFormat.recordIDSize else {
            throw ContainerError(.malformedHeader, "record id must be \(ContainerFormat.recordIDSize) bytes")
        }
        guard receipt.count <= ContainerFormat.maxReceiptSize else {
            throw ContainerError(.malformedHeader, "receipt is larger than \(ContainerFormat.maxReceiptSize) bytes")
        }
        if let plaintextSize, !(0...ContainerFormat.maxPlaintextSizeV2).contains(plaintextSize) {
            throw ContainerError(.malformedHeader, "a container holds at most \(ContainerFormat.maxPlaintextSizeV2) bytes")
        }
        var header = ContainerHeader(
            version: version,
            recordID: recordID,
            encodeKeyID: Self.keyID(of: encodeKey),
            salt: salt,
            plaintextSize: plaintextSize,
            encapsulatedKey: [],
            wrappedFileKey: [],
            receipt: receipt,
            mac: []
        )
        var sender = try HPKE.Sender(
            recipientKey: encodeKey,
            ciphersuite: .P256_SHA256_AES_GCM_256,
            info: Data(ContainerFormat.hpkeInfo(version) + header.boundPrefix)
        )
        let wrapped = try fileKey.withUnsafeBytes { keyBytes in
            try sender.seal(Data(keyBytes))
        }
        header.encapsulatedKey = Array(sender.encapsulatedKey)
        header.wrappedFileKey = Array(wrapped)
        header.mac = header.computeMAC(fileKey: fileKey)
        return header
    }

    /// A version 1 header under a fresh file key, for test vectors and compatibility tests: this
    /// build writes version 2 (``ContainerWriter``).
    static func sealVersion1(
        recordID: [UInt8],
        encodeKey: P256.KeyAgreement.PublicKey,
        receipt: [UInt8]
    ) throws -> (header: ContainerHeader, fileKey: SymmetricKey) {
        let fileKey = SymmetricKey(size: .bits256)
        let header = try seal(version: 1, fileKey: fileKey, salt: randomBytes(ContainerFormat.saltSize), recordID: recordID,
                              encodeKey: encodeKey, receipt: receipt, plaintextSize: nil)
        return (header, fileKey)
    }

    /// The id of an encode key: SHA-256 of its X9.63 representation.
    public static func keyID(of key: P256.KeyAgreement.PublicKey) -> [UInt8] {
        Array(SHA256.hash(data: key.x963Representation))
    }

    /// Unwraps the file key with the decode key and checks the header MAC.
    ///
    /// - Parameter decodeKey: The per-file private key the key service released.
    /// - Returns: The file key.
    /// - Throws: ``ContainerError`` `.wrongKey` or `.headerAuthenticationFailed`.
    public func unwrapFileKey(decodeKey: P256.KeyAgreement.PrivateKey) throws -> SymmetricKey {
        guard Self.keyID(of: decodeKey.publicKey) == encodeKeyID else {
            throw ContainerError(.wrongKey, "the key service released a key for a different encode key; the container does not match its record")
        }
        let keyBytes: Data
        do {
            var recipient = try HPKE.Recipient(
                privateKey: decodeKey,
                ciphersuite: .P256_SHA256_AES_GCM_256,
                info: Data(ContainerFormat.hpkeInfo(version) + boundPrefix),
                encapsulatedKey: Data(encapsulatedKey)
            )
            keyBytes = try recipient.open(Data(wrappedFileKey))
        } catch {
            throw ContainerError(.headerAuthenticationFailed, "the container header was altered: the file key does not unwrap")
        }
        guard keyBytes.count == 32 else {
            throw ContainerError(.headerAuthenticationFailed, "the container header was altered: the file key has the wrong size")
        }
        let fileKey = SymmetricKey(data: keyBytes)
        try authenticate(fileKey: fileKey)
        return fileKey
    }

    /// Checks the header MAC under `fileKey`; the MAC also commits the container to that key.
    public func authenticate(fileKey: SymmetricKey) throws {
        let expected = computeMAC(fileKey: fileKey)
        guard expected.count == mac.count, constantTimeEqual(expected, mac) else {
            throw ContainerError(.headerAuthenticationFailed, "the container header was altered: its MAC does not match")
        }
    }

    func computeMAC(fileKey: SymmetricKey) -> [UInt8] {
        let key = Self.headerKey(fileKey: fileKey, salt: salt, version: version)
        return Array(HMAC<SHA256>.authenticationCode(for: authenticatedBytes, using: key))
    }

    /// The key the header MAC is computed under.
    static func headerKey(fileKey: SymmetricKey, salt: [UInt8], version: UInt8) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: fileKey, salt: salt, info: ContainerFormat.headerKeyInfo(version), outputByteCount: 32)
    }

    /// The key that the payload chunks are sealed under.
    static func payloadKey(fileKey: SymmetricKey, salt: [UInt8], version: UInt8) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: fileKey, salt: salt, info: ContainerFormat.payloadKeyInfo(version), outputByteCount: 32)
    }
}

func randomBytes(_ count: Int) -> [UInt8] {
    var rng = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
}

func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in a.indices { diff |= a[i] ^ b[i] }
    return diff == 0
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}
