public import CofferTierLink
import CofferWebModule

/// Settings of one `coffer-transaction` process, by concern, each with its default. Read from a
/// config file, then the environment, then flags (``TransactionSettings``).
public struct TransactionTierConfiguration: Sendable {
    /// The HTTPS listener.
    public struct HTTP: Sendable {
        /// The address to listen on.
        public var host = "127.0.0.1"
        /// The TCP port; 0 picks a free one (see ``TransactionTierConfiguration/readyFile``).
        public var port = 8443
        /// The most connections held at once; requests on connections beyond it get 503 `busy`.
        public var maxConnections = 16_384
        /// How long a connection may go without completing a request part (the head, a body part,
        /// the end) before it is closed; requests being answered are never cut.
        public var idleTimeout: Duration = .seconds(60)
        /// How long SIGTERM waits for requests in flight before the process exits anyway.
        public var drainTimeout: Duration = .seconds(15)
        public init() {}
    }

    /// TLS: the certificate chain and its key, PEM, or ``TLS/tokenKey`` for the cryptographic
    /// device's `coffer-tls` key.
    public struct TLS: Sendable {
        public var certificateFile = "tls.crt"
        public var keyFile = "tls.key.pem"
        /// The ``keyFile`` that names the device's TLS key instead of a file.
        public static let tokenKey = "token"
        public init() {}
    }

    /// The tier's own keys, each in a file of mode 0600 but the certificate.
    public struct Keys: Sendable {
        /// PEM P-256 identity and receipt signing key.
        public var signingKeyFile = "signing.key.pem"
        /// PEM certificate chain of the signing key with `extendedKeyUsage=critical,timeStamping`,
        /// issued by the deployment's CA: it signs the RFC 3161 receipts.
        public var tsaCertificateFile = "tsa.crt"
        /// Base64 32-byte key-encryption key.
        public var kekFile = "kek.b64"
        /// Other KEKs of a rotation: they open the keys they wrapped, and wrap none.
        public var unwrapOnlyKEKFiles: [String] = []
        /// Base64 Ed25519 key that signs the audit log's checkpoints.
        public var checkpointKeyFile = "checkpoint.key"
        /// The verifier keys (`.vkey` files) of earlier checkpoint keys: a rotation's.
        public var previousCheckpointVerifierFiles: [String] = []
        /// The identity key that takes over at a set moment (a rotation), with its time-stamping
        /// certificate and the previous key's statement; nil when none is scheduled.
        public var nextIdentity: NextIdentity?
        /// Statements of earlier identity rotations (`coffer-admin keys new-identity-key`), served so
        /// that clients which pinned an earlier key follow them to the one in force.
        public var identityRotationFiles: [String] = []
        /// A cryptographic device to keep the keys in instead of the files above (the TSA certificate
        /// stays a file); nil for key files.
        public var device: Device?
        public init() {}
    }

    /// The next identity and receipt signing key of a rotation: it signs from the moment its
    /// statement names (docs/DEPLOYMENT.md, "Rotating the identity key").
    public struct NextIdentity: Sendable {
        /// PEM P-256 key, mode 0600.
        public var signingKeyFile: String
        /// Its time-stamping certificate chain, issued by the deployment's CA.
        public var tsaCertificateFile = ""
        /// The statement that names it, signed by the key in force (`coffer-admin keys new-identity-key`).
        public var statementFile = ""
        public init(signingKeyFile: String) { self.signingKeyFile = signingKeyFile }
    }

    /// A PKCS#11 token that holds the tier's keys (docs/DEPLOYMENT.md, "A cryptographic device").
    public struct Device: Sendable {
        /// The PKCS#11 module (a shared library) to `dlopen`.
        public var modulePath: String
        /// The token's label.
        public var tokenLabel = "coffer"
        /// A file of mode 0600 holding the user PIN.
        public var pinFile = "token.pin"
        /// Sessions the tier opens at most; device calls beyond them wait their turn.
        public var sessions = 8
        public init(modulePath: String) { self.modulePath = modulePath }
    }

    /// The link to the database tier.
    public struct TierLink: Sendable {
        /// This process's CURVE secret key (mode 0600).
        public var curveSecretKeyFile = "transaction-curve.secret"
        /// The database tier's CURVE public key.
        public var databasePublicKeyFile = "database-curve.public"
        /// Endpoints, timeouts, queue.
        public var link = DatabaseLink.Configuration(endpoints: ["tcp://127.0.0.1:7701"])
        public init() {}
    }

    /// Login sessions and password hashes.
    public struct Sessions: Sendable {
        /// How long a login session lasts.
        public var lifetime: Duration = .seconds(15 * 60)
        /// PBKDF2 rounds for new password hashes.
        public var passwordRounds = PasswordHasher.owaspRounds
        public init() {}
    }

    /// What one address, one account or the password work may take.
    public struct Limits: Sendable {
        /// Failed attempts per source and per user before attempts are refused at once.
        public var failures = FailureLimiter.Policy()
        /// Saves, retrievals and deletes per user.
        public var perUser = TokenBuckets.Policy(burst: 200, perHour: 3_600)
        /// Registrations per source address.
        public var registrationsPerSource = TokenBuckets.Policy(burst: 20, perHour: 20)
        /// How many password checks run and wait at once; more are answered 503 `busy`.
        public var passwordWork = PasswordWorkGate.Policy()
        public init() {}
    }

    /// The audit log's checkpoints.
    public struct Audit: Sendable {
        /// The log's origin: the first line of each checkpoint and the key's name.
        public var origin = "coffer/audit"
        /// When checkpoints are signed, and where the last one is kept.
        public var checkpoints = Checkpointer.Policy()
        public init() {}
    }

    /// The browser module (docs/ARCHITECTURE.md, "The browser module").
    public struct Web: Sendable {
        /// The folder of the module's files; `nil` serves none.
        public var moduleDirectory: String? = WebModule.checkoutDirectory
        /// Whether a module that cannot be read stops the process (set when the folder is given
        /// explicitly) or only leaves the site unserved with a warning (the checkout's default).
        public var required = false
        public init() {}
    }

    public var http = HTTP()
    public var web = Web()
    public var tls = TLS()
    public var keys = Keys()
    public var tierLink = TierLink()
    public var sessions = Sessions()
    public var lockout = Lockout()
    public var limits = Limits()
    public var audit = Audit()
    /// How a KEK rotation moves decode keys to the current KEK.
    var rewrap = KeyRewrapper.Policy()
    /// A file to write `https://HOST:PORT` to once listening.
    public var readyFile: String?
    /// Where to answer `GET /metrics` in Prometheus' text format (`HOST:PORT`); none when `nil`.
    public var metricsEndpoint: String?
    /// The least severe log level written: trace, debug, info, notice, warning, error or critical.
    public var logLevel = "info"

    public init() {}
}
