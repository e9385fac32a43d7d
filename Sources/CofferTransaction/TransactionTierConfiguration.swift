/// Settings of one `coffer-transaction` process.
public struct TransactionTierConfiguration: Sendable {
    /// The address to listen on.
    public var host: String = "127.0.0.1"
    /// The TCP port; 0 picks a free one (see ``readyFile``).
    public var port: Int = 8443
    /// PEM certificate chain for TLS.
    public var tlsCertificateFile: String = "tls.crt"
    /// PEM private key for TLS.
    public var tlsKeyFile: String = "tls.key.pem"
    /// PEM P-256 receipt signing key (mode 0600).
    public var signingKeyFile: String = "signing.key.pem"
    /// PEM certificate chain of the signing key with `extendedKeyUsage=critical,timeStamping`, issued
    /// by the deployment's CA: it signs the RFC 3161 receipts.
    public var tsaCertificateFile: String = "tsa.crt"
    /// Base64 32-byte key-encryption key (mode 0600).
    public var kekFile: String = "kek.b64"
    /// This process's CURVE secret key (mode 0600).
    public var curveSecretKeyFile: String = "transaction-curve.secret"
    /// The database tier's CURVE public key.
    public var databasePublicKeyFile: String = "database-curve.public"
    /// The database tier endpoints.
    public var databaseEndpoints: [String] = ["tcp://127.0.0.1:7701"]
    /// How long one database-tier request may take, retries included, before the client gets a 503.
    public var databaseTimeout: Duration = .seconds(5)
    /// The most requests waiting for the database tier at once; more are answered 503 at once.
    public var databaseQueueLimit: Int = 4_096
    /// How long one attempt waits for its answer before the request is sent again.
    public var databaseAttemptTimeout: Duration = .milliseconds(1_500)
    /// How long a login session lasts.
    public var sessionLifetime: Duration = .seconds(15 * 60)
    /// Failed logins in a row that lock an account.
    public var lockoutAttempts: Int = 5
    /// How long a lockout lasts.
    public var lockoutDuration: Duration = .seconds(15 * 60)
    /// PBKDF2 rounds for new password hashes.
    public var passwordRounds: Int = 600_000
    /// Base64 Ed25519 key that signs the audit log's checkpoints (mode 0600).
    public var checkpointKeyFile: String = "checkpoint.key"
    /// The audit log's origin: the first line of each checkpoint and the key's name.
    public var auditOrigin: String = "coffer/audit"
    /// When checkpoints are signed, and where the last one is kept.
    public var checkpointPolicy = Checkpointer.Policy()
    /// Failed attempts per source and per user before attempts are refused at once.
    public var failureLimits = FailureLimiter.Policy()
    /// Per-user limits on saves, retrievals and deletes, and per-address limits on registration.
    public var changeLimits = TransactionService.ChangeLimits()
    /// How many password checks run and wait at once; more are answered 503 `busy`.
    public var passwordWork = PasswordWorkGate.Policy()
    /// How long SIGTERM waits for requests in flight before the process exits anyway.
    public var drainTimeout: Duration = .seconds(15)
    /// The most connections held at once; requests on connections beyond it get 503 `busy`.
    public var maxConnections: Int = 16_384
    /// How long a connection may go without completing a request part (the head, a body part, the
    /// end) before it is closed; requests being answered are never cut.
    public var idleTimeout: Duration = .seconds(60)
    /// A file to write `https://HOST:PORT` to once listening.
    public var readyFile: String?

    public init() {}
}
