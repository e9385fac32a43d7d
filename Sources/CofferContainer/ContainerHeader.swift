public import Crypto
import Foundation

/// The header of a Coffer container: everything before the first payload chunk.
///
/// A parsed header is *not yet authenticated*: ``authenticate(fileKey:)`` checks its MAC once the
/// file key has been unwrapped with the decode key.
public struct ContainerHeader: Sendable, Hashable {
    /// The record this container belongs to, as the key service knows it.
    public var recordID: [UInt8]
    /// SHA-256 of the encode key's X9.63 representation.
    public var encodeKeyID: [UInt8]
    /// Random salt for the header and payload keys.
    public var salt: [UInt8]
    /// HPKE encapsulated key.
    public var encapsulatedKey: [UInt8]
    /// The file key, sealed to the encode key with HPKE.
    public var wrappedFileKey: [UInt8]
    /// The server's receipt for this save (opaque to the container format).
    public var receipt: [UInt8]
    /// HMAC-SHA256 over all preceding header bytes.
    public var mac: [UInt8]

    /// The header bytes bound into the HPKE key schedule (after the info label): magic through salt.
    var boundPrefix: [UInt8] {
        var out = ContainerFormat.magic
        out.appendBigEndian(ContainerFormat.suiteP256AES256GCM)
        out.appendBigEndian(UInt32(ContainerFormat.chunkSize))
        out += recordID
        out += encodeKeyID
        out += salt
        return out
    }

    /// The header bytes covered by the MAC.
    var authenticatedBytes: [UInt8] {
        var out = boundPrefix
        out += encapsulatedKey
        out.appendBigEndian(UInt16(wrappedFileKey.count))
        out += wrappedFileKey
        out.appendBigEndian(UInt32(receipt.count))
        out += receipt
        return out
    }

    /// The full serialized header.
    public var serialized: [UInt8] { authenticatedBytes + mac }

    /// Creates a header for a new container, wrapping a fresh file key to `encodeKey`.
    ///
    /// - Parameters:
    ///   - recordID: The 16-byte record id from the save receipt.
    ///   - encodeKey: The per-file public key the key service returned.
    ///   - receipt: The receipt bytes to carry.
    /// - Returns: The header and the file key that the payload is encrypted under.
    public static func seal(
        recordID: [UInt8],
        encodeKey: P256.KeyAgreement.PublicKey,
        receipt: [UInt8]
    ) throws -> (header: ContainerHeader, fileKey: SymmetricKey) {
        guard recordID.count == ContainerFormat.recordIDSize else {
            throw ContainerError(.malformedHeader, "record id must be \(ContainerFormat.recordIDSize) bytes")
        }
        guard receipt.count <= ContainerFormat.maxReceiptSize else {
            throw ContainerError(.malformedHeader, "receipt is larger than \(ContainerFormat.maxReceiptSize) bytes")
        }
        let fileKey = SymmetricKey(size: .bits256)
        var header = ContainerHeader(
            recordID: recordID,
            encodeKeyID: Self.keyID(of: encodeKey),
            salt: randomBytes(ContainerFormat.saltSize),
            encapsulatedKey: [],
            wrappedFileKey: [],
            receipt: receipt,
            mac: []
        )
        var sender = try HPKE.Sender(
            recipientKey: encodeKey,
            ciphersuite: .P256_SHA256_AES_GCM_256,
            info: Data(ContainerFormat.hpkeInfo + header.boundPrefix)
        )
        let wrapped = try fileKey.withUnsafeBytes { keyBytes in
            try sender.seal(Data(keyBytes))
        }
        header.encapsulatedKey = Array(sender.encapsulatedKey)
        header.wrappedFileKey = Array(wrapped)
        header.mac = header.computeMAC(fileKey: fileKey)
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
                info: Data(ContainerFormat.hpkeInfo + boundPrefix),
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
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: fileKey,
            salt: salt,
            info: ContainerFormat.headerKeyInfo,
            outputByteCount: 32
        )
        return Array(HMAC<SHA256>.authenticationCode(for: authenticatedBytes, using: key))
    }

    /// The key that the payload chunks are sealed under.
    func payloadKey(fileKey: SymmetricKey) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: fileKey,
            salt: salt,
            info: ContainerFormat.payloadKeyInfo,
            outputByteCount: 32
        )
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
