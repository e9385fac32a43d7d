public import CofferAudit
public import CofferKeys
public import CofferTimestamp
public import Crypto
public import NIOSSL

/// The transaction tier's keys in files of mode 0600, read into memory at start: the signing key,
/// the KEK (which wraps decode keys, ``KeyWrapper``, and keys the session tokens) and the checkpoint
/// key. The default, for a newcomer; whoever reads the process's memory or its key folder holds
/// them all (docs/THREAT-MODEL.md).
///
/// During a KEK rotation it holds more than one KEK: `keys.kek` wraps new keys, the `unwrapOnly`
/// ones still open what they wrapped (docs/DEPLOYMENT.md, "Rotating the KEK").
public struct FileKeyBackend: KeyBackend {
    private let keys: ServerKeys
    private let wrapper: KeyWrapper
    private let others: [KeyWrapper]
    private let sessionKey: SymmetricKey
    private let otherSessionKeys: [SymmetricKey]
    private let checkpointKeyFile: String

    public init(keys: ServerKeys, unwrapOnly: [SymmetricKey] = [], checkpointKeyFile: String) {
        self.keys = keys
        self.wrapper = KeyWrapper(kek: keys.kek)
        self.others = unwrapOnly.map(KeyWrapper.init)
        self.sessionKey = ServerKeys.sessionKey(kek: keys.kek)
        self.otherSessionKeys = unwrapOnly.map(ServerKeys.sessionKey)
        self.checkpointKeyFile = checkpointKeyFile
    }

    /// Reads the signing key and the KEKs, refusing files that others can read and a KEK named
    /// twice; the checkpoint key is read when its signer is asked for.
    public static func load(_ keys: TransactionTierConfiguration.Keys) throws -> FileKeyBackend {
        let server = try ServerKeys.load(signingKeyFile: keys.signingKeyFile, kekFile: keys.kekFile)
        let others = try keys.unwrapOnlyKEKFiles.map(ServerKeys.loadKEK)
        let ids = ([server.kek] + others).map(ServerKeys.kekIDText)
        guard Set(ids).count == ids.count else { throw TransactionTierError("the same KEK is named twice among kek and kek-unwrap-only") }
        return FileKeyBackend(keys: server, unwrapOnly: others, checkpointKeyFile: keys.checkpointKeyFile)
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
        guard wrapped.count == KeyWrapper.wrappedLength || KeyWrapper.isTagged(wrapped) else {
            throw DecodeKeyMismatch("the decode key was wrapped by a cryptographic device; this process has only key files")
        }
        // A tagged key names its KEK; an untagged one may be under any of them.
        let candidates = ([wrapper] + others).filter { !KeyWrapper.isTagged(wrapped) || Array(wrapped[1..<9]) == $0.kekID }
        guard !candidates.isEmpty else {
            throw DecodeKeyMismatch("the decode key is wrapped under a KEK this process does not have (KEK \(AuditLeaf.hex(Array(wrapped[1..<9])))): give it as kek-unwrap-only")
        }
        for candidate in candidates {
            if let key = try? candidate.unwrap(wrapped, recordID: recordID, owner: owner, encodeKeyID: encodeKeyID) { return key }
        }
        throw DecodeKeyMismatch("the decode key does not unwrap under the KEK for this record, owner and generation")
    }

    public func sessionMAC(_ payload: [UInt8]) throws -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: payload, using: sessionKey))
    }

    public func otherSessionMACs(_ payload: [UInt8]) throws -> [[UInt8]] {
        otherSessionKeys.map { Array(HMAC<SHA256>.authenticationCode(for: payload, using: $0)) }
    }

    public var keks: (current: String, unwrapOnly: [String])? { (AuditLeaf.hex(wrapper.kekID), others.map { AuditLeaf.hex($0.kekID) }) }

    public var kekTag: [UInt8]? { wrapper.tag }

    public func rewrap(_ wrapped: [UInt8], recordID: [UInt8], owner: String, encodeKeyID: [UInt8]) throws -> [UInt8]? {
        guard !(KeyWrapper.isTagged(wrapped) && Array(wrapped.prefix(9)) == wrapper.tag) else { return nil }
        let key = try releaseDecodeKey(wrapped, recordID: recordID, owner: owner, encodeKeyID: encodeKeyID)
        return try wrapper.wrap(key, recordID: recordID, owner: owner)
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
