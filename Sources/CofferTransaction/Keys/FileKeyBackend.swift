public import CofferAudit
public import CofferKeys
public import CofferTimestamp
public import Crypto
public import NIOSSL

/// The transaction tier's keys in files of mode 0600, read into memory at start: the signing key,
/// the KEK (which wraps decode keys, ``KeyWrapper``, and keys the session tokens) and the checkpoint
/// key. The default, for a newcomer; whoever reads the process's memory or its key folder holds
/// them all (docs/THREAT-MODEL.md).
public struct FileKeyBackend: KeyBackend {
    private let keys: ServerKeys
    private let wrapper: KeyWrapper
    private let sessionKey: SymmetricKey
    private let checkpointKeyFile: String

    public init(keys: ServerKeys, checkpointKeyFile: String) {
        self.keys = keys
        self.wrapper = KeyWrapper(kek: keys.kek)
        self.sessionKey = ServerKeys.sessionKey(kek: keys.kek)
        self.checkpointKeyFile = checkpointKeyFile
    }

    /// Reads the signing key and the KEK, refusing files that others can read; the checkpoint key
    /// is read when its signer is asked for.
    public static func load(_ keys: TransactionTierConfiguration.Keys) throws -> FileKeyBackend {
        FileKeyBackend(keys: try ServerKeys.load(signingKeyFile: keys.signingKeyFile, kekFile: keys.kekFile),
                       checkpointKeyFile: keys.checkpointKeyFile)
    }

    public var description: String { "key files" }

    public var signingPublicKey: P256.Signing.PublicKey { keys.signingKey.publicKey }

    public func sign(_ message: [UInt8]) throws -> P256.Signing.ECDSASignature {
        try keys.signingKey.signature(for: message)
    }

    public func makeDecodeKey(recordID: [UInt8], owner: String) throws -> WrappedDecodeKey {
        let decodeKey = P256.KeyAgreement.PrivateKey()
        return WrappedDecodeKey(encodeKey: decodeKey.publicKey, wrapped: try wrapper.wrap(decodeKey, recordID: recordID, owner: owner))
    }

    public func releaseDecodeKey(_ wrapped: [UInt8], recordID: [UInt8], owner: String, encodeKeyID: [UInt8]) throws -> P256.KeyAgreement.PrivateKey {
        guard wrapped.count == KeyWrapper.wrappedLength else {
            throw DecodeKeyMismatch("the decode key was wrapped by a cryptographic device; this process has only key files")
        }
        do {
            return try wrapper.unwrap(wrapped, recordID: recordID, owner: owner, encodeKeyID: encodeKeyID)
        } catch {
            throw DecodeKeyMismatch("the decode key does not unwrap under the KEK for this record, owner and generation")
        }
    }

    public func sessionMAC(_ payload: [UInt8]) throws -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: payload, using: sessionKey))
    }

    public func timestampAuthority(certificateChainPEM: String) throws -> TimestampAuthority {
        try TimestampAuthority(certificateChainPEM: certificateChainPEM, keyPEM: keys.signingKey.pemRepresentation)
    }

    public func checkpointSigner(origin: String) throws -> NoteSigner {
        try CheckpointKey.load(checkpointKeyFile, origin: origin)
    }

    /// Key files keep no TLS key: it is the `tls-key` file.
    public func tlsKey() throws -> (key: NIOSSLPrivateKey, publicKey: P256.Signing.PublicKey)? { nil }

    public func perform<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try work()
    }
}
