public import CofferAudit
public import CofferTimestamp
public import Crypto
public import NIOSSL

/// Where the transaction tier's keys are kept and what it asks of them: files read into memory
/// (``FileKeyBackend``, the default) or a cryptographic device (``DeviceKeyBackend``, PKCS#11).
///
/// The methods may block on a device: request paths call them through ``perform(_:)``, which
/// runs them where the backend's calls belong (inline for keys in memory, the thread pool for a
/// device). A failure of the device surfaces as ``APIError`` 503 `device_unavailable`.
public protocol KeyBackend: Sendable {
    /// What holds the keys, for the log: `files` or `PKCS#11 token "label"`.
    var description: String { get }
    /// The identity and receipt signing key's public half.
    var signingPublicKey: P256.Signing.PublicKey { get }
    /// ECDSA P-256 over SHA-256 of `message`: the identity challenge, the module manifest, the key statement.
    func sign(_ message: [UInt8]) throws -> P256.Signing.ECDSASignature
    /// A fresh per-file key pair: its encode key and its decode key wrapped for `recordID` and `owner`.
    func makeDecodeKey(recordID: [UInt8], owner: String) throws -> WrappedDecodeKey
    /// The decode key of a record, unwrapped for release to its owner. Throws
    /// ``DecodeKeyMismatch`` when the wrapped key is not this record's, owner's or generation's.
    func releaseDecodeKey(_ wrapped: [UInt8], recordID: [UInt8], owner: String, encodeKeyID: [UInt8]) throws -> P256.KeyAgreement.PrivateKey
    /// HMAC-SHA256 of a session token's payload.
    func sessionMAC(_ payload: [UInt8]) throws -> [UInt8]
    /// The same under the session keys of the other KEKs of a rotation, whose tokens stay valid.
    func otherSessionMACs(_ payload: [UInt8]) throws -> [[UInt8]]
    /// The KEKs: the one that wraps new keys and those that only unwrap (a rotation's other KEKs), by
    /// id; `nil` when the backend cannot rotate them itself (a device).
    var keks: (current: String, unwrapOnly: [String])? { get }
    /// The first bytes of every key wrapped under the current KEK (`nil` for a device).
    var kekTag: [UInt8]? { get }
    /// `wrapped` opened under whichever KEK it is under and wrapped again under the current one;
    /// `nil` when it is under the current one already or in a form this backend does not rewrap.
    func rewrap(_ wrapped: [UInt8], recordID: [UInt8], owner: String, encodeKeyID: [UInt8]) throws -> [UInt8]?
    /// The RFC 3161 time-stamping authority for the signing key, from its certificate chain.
    func timestampAuthority(certificateChainPEM: String) throws -> TimestampAuthority
    /// The audit checkpoints' signer, named `origin`.
    func checkpointSigner(origin: String) throws -> NoteSigner
    /// The TLS server key kept by the backend (a device's `coffer-tls`) with its public half, or nil
    /// when it has none.
    func tlsKey() throws -> (key: NIOSSLPrivateKey, publicKey: P256.Signing.PublicKey)?
    /// Runs `work`, which calls this backend, where its calls belong; maps a device failure to 503.
    func perform<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T
}

/// A backend that keeps one KEK and one session key, as a token does: its KEK is rotated inside
/// the token, not by this process (docs/DEPLOYMENT.md, "Rotating the KEK").
extension KeyBackend {
    public func otherSessionMACs(_ payload: [UInt8]) throws -> [[UInt8]] { [] }
    public var keks: (current: String, unwrapOnly: [String])? { nil }
    public var kekTag: [UInt8]? { nil }
    public func rewrap(_ wrapped: [UInt8], recordID: [UInt8], owner: String, encodeKeyID: [UInt8]) throws -> [UInt8]? { nil }
}

/// A new key generation's keys as the key backend gives them: the decode key only wrapped.
public struct WrappedDecodeKey: Sendable {
    public let encodeKey: P256.KeyAgreement.PublicKey
    /// SHA-256 of the encode key's X9.63 form, as the container and receipt name it.
    public let encodeKeyID: [UInt8]
    /// The decode key wrapped for its record and owner (see docs/PROTOCOL.md, "Keys at rest").
    public let wrapped: [UInt8]

    init(encodeKey: P256.KeyAgreement.PublicKey, wrapped: [UInt8]) {
        self.encodeKey = encodeKey
        self.encodeKeyID = KeyWrapper.keyID(encodeKey)
        self.wrapped = wrapped
    }
}

/// A stored decode key that does not open as the record's, owner's or generation's: moved,
/// altered, or wrapped by another deployment.
public struct DecodeKeyMismatch: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
