/// What `GET /status` on a transaction process's metrics listener answers, for `coffer-admin
/// status`: readiness, the audit state, the newest checkpoint and the keys in use. No secret and
/// no user: the listener is the operators' (docs/DEPLOYMENT.md, Status).
public struct TransactionProcessStatus: Codable, Sendable {
    public var ready: Bool
    /// Why not ready, or the database tier's store and schema.
    public var detail: String
    /// `ok`, or why the audit history is not healthy.
    public var audit: String
    /// The newest checkpoint this process signed or adopted: its size, and when.
    public var checkpointSize: Int64?
    public var checkpointAtMs: Int64?
    /// Where the keys are (`key files`, or the token).
    public var keyBackend: String
    /// The identity and receipt signing key's fingerprint (`sha256:…`).
    public var identityKey: String
    /// The identity key of a scheduled rotation, and when it takes over (Unix ms); absent otherwise.
    public var identityKeyNext: String?
    public var identityKeyFromMs: Int64?
    /// The checkpoint verifier key (`name+hash+base64`).
    public var checkpointKey: String
    /// The restore this process was started to accept, if any.
    public var acceptRestore: Int64?
    /// The id of the KEK that wraps new keys, and of those that only unwrap (a rotation's others);
    /// `nil` when a device keeps the KEK.
    public var kek: String?
    public var kekUnwrapOnly: [String]?

    public init(ready: Bool, detail: String, audit: String, checkpointSize: Int64?, checkpointAtMs: Int64?, keyBackend: String,
                identityKey: String, checkpointKey: String, acceptRestore: Int64?, kek: String?, kekUnwrapOnly: [String]?) {
        self.kek = kek
        self.kekUnwrapOnly = kekUnwrapOnly
        self.ready = ready
        self.detail = detail
        self.audit = audit
        self.checkpointSize = checkpointSize
        self.checkpointAtMs = checkpointAtMs
        self.keyBackend = keyBackend
        self.identityKey = identityKey
        self.checkpointKey = checkpointKey
        self.acceptRestore = acceptRestore
    }
}
