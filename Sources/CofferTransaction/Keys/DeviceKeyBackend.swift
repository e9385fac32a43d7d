public import CofferAudit
import CofferDevice
import CofferKeys
public import CofferTimestamp
public import Crypto
import Foundation
import HTTPTypes
public import Logging
import NIOCore
import NIOPosix
public import NIOSSL

/// The transaction tier's keys inside a PKCS#11 token (``CofferTokenKeys``): the KEK, the
/// decode-key wrapping key, the signing key, the session-token key and the checkpoint key never
/// exist in this process's memory. Per-file key pairs are made by the token and leave it only
/// wrapped; a decode key is unwrapped on the host at the moment it is released to its owner.
///
/// Wrapped decode key, version 2: `0x02` ‖ 12-byte nonce ‖ AES-256-GCM under the KEK of the
/// token's `CKM_AES_KEY_WRAP_PAD` form of the private key ‖ tag, with associated data
/// `"coffer kek v2"` ‖ record id ‖ encode key id ‖ owner. Version 1 (key files' form, 60 bytes)
/// still opens when the KEK was imported from its file.
public final class DeviceKeyBackend: KeyBackend {
    private let token: Token
    private let modulePath: String
    public let signingPublicKey: P256.Signing.PublicKey
    private let checkpointPublicKey: Curve25519.Signing.PublicKey
    private let logger: Logger

    /// Loads the module, logs in to the token and checks that it offers every mechanism and holds
    /// every key; any problem is one ``KeyFileError`` line naming it.
    public static func open(_ device: TransactionTierConfiguration.Device, logger: Logger) throws -> DeviceKeyBackend {
        let pin = try SecretFile.readPIN(device.pinFile)
        do {
            let token = try Token(modulePath: device.modulePath, label: device.tokenLabel, pin: pin, sessions: device.sessions)
            if let problem = try CofferTokenKeys.problem(in: token) { throw KeyFileError(problem) }
            let signing = try P256.Signing.PublicKey(x963Representation: try token.publicPoint(key: CofferTokenKeys.signing))
            let checkpoint = try Curve25519.Signing.PublicKey(rawRepresentation: try token.ed25519PublicKey(key: CofferTokenKeys.checkpoint))
            return DeviceKeyBackend(token: token, modulePath: device.modulePath, signing: signing, checkpoint: checkpoint, logger: logger)
        } catch let error as DeviceError {
            throw KeyFileError(error.description)
        }
    }

    private init(token: Token, modulePath: String, signing: P256.Signing.PublicKey, checkpoint: Curve25519.Signing.PublicKey, logger: Logger) {
        self.token = token
        self.modulePath = modulePath
        self.signingPublicKey = signing
        self.checkpointPublicKey = checkpoint
        self.logger = logger
    }

    public var description: String { "PKCS#11 token \"\(token.label)\" (\(modulePath))" }

    public func sign(_ message: [UInt8]) throws -> P256.Signing.ECDSASignature {
        let raw = try token.signECDSA(key: CofferTokenKeys.signing, digest: Array(SHA256.hash(data: message)))
        return try P256.Signing.ECDSASignature(rawRepresentation: raw)
    }

    public func makeDecodeKey(recordID: [UInt8], owner: String) throws -> WrappedDecodeKey {
        let pair = try token.makeWrappedP256Pair(wrappingKey: CofferTokenKeys.wrapping)
        let encodeKey = try P256.KeyAgreement.PublicKey(x963Representation: pair.publicPoint)
        let nonce = (0..<12).map { _ in UInt8.random(in: 0...255) }
        let aad = KeyWrapper.associatedData(version: 2, recordID, KeyWrapper.keyID(encodeKey), owner)
        let sealed = try token.sealGCM(key: CofferTokenKeys.kek, nonce: nonce, plaintext: pair.wrapped, authenticating: aad)
        return WrappedDecodeKey(encodeKey: encodeKey, wrapped: [Self.version] + nonce + sealed)
    }

    public func releaseDecodeKey(_ wrapped: [UInt8], recordID: [UInt8], owner: String, encodeKeyID: [UInt8]) throws -> P256.KeyAgreement.PrivateKey {
        var scalar: [UInt8]
        if wrapped.count == KeyWrapper.wrappedLength {
            scalar = try opened { try token.openGCM(key: CofferTokenKeys.kek, nonce: Array(wrapped[..<12]), sealed: Array(wrapped[12...]),
                                                    authenticating: KeyWrapper.associatedData(version: 1, recordID, encodeKeyID, owner)) }
        } else if KeyWrapper.isTagged(wrapped) {
            // Key files' tagged form, under the KEK imported as `coffer-kek` (or another: then it does not open).
            let kekID = Array(wrapped[1..<9])
            scalar = try opened { try token.openGCM(key: CofferTokenKeys.kek, nonce: Array(wrapped[9..<21]), sealed: Array(wrapped[21...]),
                                                    authenticating: KeyWrapper.associatedData(version: 3, kekID + recordID, encodeKeyID, owner)) }
        } else {
            guard wrapped.count > 1 + 12 + 16, wrapped[0] == Self.version else {
                throw DecodeKeyMismatch("the stored decode key is in no form this tier knows")
            }
            let inner = try opened { try token.openGCM(key: CofferTokenKeys.kek, nonce: Array(wrapped[1..<13]), sealed: Array(wrapped[13...]),
                                                       authenticating: KeyWrapper.associatedData(version: 2, recordID, encodeKeyID, owner)) }
            scalar = try opened { try token.unwrapP256Scalar(inner, wrappingKey: CofferTokenKeys.wrapping) }
        }
        defer { scalar.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
        let key: P256.KeyAgreement.PrivateKey
        do {
            key = try P256.KeyAgreement.PrivateKey(rawRepresentation: scalar)
        } catch {
            throw DecodeKeyMismatch("the unwrapped decode key is not a P-256 key")
        }
        guard KeyWrapper.keyID(key.publicKey) == encodeKeyID else { throw DecodeKeyMismatch("the unwrapped key is not the recorded generation") }
        return key
    }

    public func sessionMAC(_ payload: [UInt8]) throws -> [UInt8] {
        try token.hmacSHA256(key: CofferTokenKeys.session, data: payload)
    }

    public func timestampAuthority(certificateChainPEM: String) throws -> TimestampAuthority {
        let token = self.token
        return try TimestampAuthority(certificateChainPEM: certificateChainPEM, publicKeyX963: Array(signingPublicKey.x963Representation)) { digest in
            try token.signECDSA(key: CofferTokenKeys.signing, digest: digest)
        }
    }

    public func checkpointSigner(origin: String) throws -> NoteSigner {
        let token = self.token
        do {
            return try NoteSigner(keyName: origin, publicKey: checkpointPublicKey) { message in
                try token.signEd25519(key: CofferTokenKeys.checkpoint, message: message)
            }
        } catch {
            throw KeyFileError("the audit origin \"\(origin)\" cannot name a key: \(error)")
        }
    }

    /// The token's `coffer-tls` key as a key TLS signs with: each handshake's signature is made by
    /// the token on the thread pool, never on the event loop.
    public func tlsKey() throws -> (key: NIOSSLPrivateKey, publicKey: P256.Signing.PublicKey)? {
        let publicKey = try P256.Signing.PublicKey(x963Representation: try token.publicPoint(key: CofferTokenKeys.tls))
        return (NIOSSLPrivateKey(customPrivateKey: TokenTLSKey(token: token, publicKey: Array(publicKey.derRepresentation))), publicKey)
    }

    /// Runs `work` on the thread pool (a device call blocks its thread); a device failure is logged
    /// and answered 503 `device_unavailable`.
    public func perform<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await NIOThreadPool.singleton.runIfActive(work)
        } catch let error as DeviceError {
            logger.error("the cryptographic device failed", metadata: ["coffer.error": "\(error)"])
            throw Self.unavailable
        }
    }

    /// A token refusal that means the stored key is not this record's (a wrong tag or wrapping),
    /// told apart from the device failing.
    private func opened(_ body: () throws -> [UInt8]) throws -> [UInt8] {
        do {
            return try body()
        } catch let error as DeviceError where error.kind == .operationFailed && error.isInvalidData {
            throw DecodeKeyMismatch("the stored decode key does not open under the token's keys for this record, owner and generation (\(error))")
        }
    }

    /// The answer to a request a device call failed: 503 `device_unavailable`.
    public static let unavailable = APIError(.serviceUnavailable, unavailableCode,
                                             "the key service's cryptographic device is unavailable; nothing was done; retry shortly", retryAfter: 2)
    static let unavailableCode = "device_unavailable"

    private static let version: UInt8 = 2
}

/// The TLS server key inside the token: ECDSA P-256 with SHA-256, signed by the token off the
/// event loop (swift-nio-ssl calls ``sign(channel:algorithm:data:)`` on it).
struct TokenTLSKey: NIOSSLCustomPrivateKey, Hashable {
    let token: Token
    /// The key's SubjectPublicKeyInfo, which identifies it.
    let publicKey: [UInt8]

    var signatureAlgorithms: [SignatureAlgorithm] { [.ecdsaSecp256R1Sha256] }

    func sign(channel: any Channel, algorithm: SignatureAlgorithm, data: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        guard algorithm == .ecdsaSecp256R1Sha256 else {
            return channel.eventLoop.makeFailedFuture(KeyFileError("the token's TLS key signs only ECDSA P-256 with SHA-256"))
        }
        let digest = Array(SHA256.hash(data: Array(data.readableBytesView)))
        let token = self.token
        return NIOThreadPool.singleton.runIfActive(eventLoop: channel.eventLoop) {
            let raw = try token.signECDSA(key: CofferTokenKeys.tls, digest: digest)
            return ByteBuffer(bytes: try P256.Signing.ECDSASignature(rawRepresentation: raw).derRepresentation)
        }
    }

    func decrypt(channel: any Channel, data: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        channel.eventLoop.makeFailedFuture(KeyFileError("the token's TLS key is an EC key: it decrypts nothing"))
    }

    static func == (a: TokenTLSKey, b: TokenTLSKey) -> Bool { a.publicKey == b.publicKey }
    func hash(into hasher: inout Hasher) { hasher.combine(publicKey) }
}
