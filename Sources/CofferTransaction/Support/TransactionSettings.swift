import CofferTierLink
public import CofferServerSupport

/// Every setting of `coffer-transaction`, with its key, meaning and default, read by one
/// ``SettingsReader`` from the config file, the environment and flags.
public enum TransactionSettings {
    public static let reader = SettingsReader<TransactionTierConfiguration>(
        command: "coffer-transaction", abstract: "the Coffer transaction tier: TLS, authentication, keys, receipts (docs/DEPLOYMENT.md).",
        environmentPrefix: "COFFER_TRANSACTION", settings: all
    )

    static let defaults = TransactionTierConfiguration()

    static let all: [Setting<TransactionTierConfiguration>] = [
        .text("host", "The address to listen on (default \(defaults.http.host)).") { $0.http.host = $1 },
        .number("port", "The TCP port (default \(defaults.http.port); 0 picks a free one).", in: 0...65_535) { $0.http.port = $1 },
        .text("tls-cert", "TLS certificate chain, PEM.") { $0.tls.certificateFile = $1 },
        .text("tls-key", "TLS private key, PEM; or 'token' for the token's coffer-tls key (with pkcs11-module).") { $0.tls.keyFile = $1 },
        .text("signing-key", "Identity and receipt signing key, PEM (mode 0600).") { $0.keys.signingKeyFile = $1 },
        .text("tsa-cert", "Time-stamping certificate of the signing key, PEM chain (critical EKU timeStamping).") { $0.keys.tsaCertificateFile = $1 },
        .text("kek", "Key-encryption key file (mode 0600): the KEK that wraps new decode keys.") { $0.keys.kekFile = $1 },
        .number("rewrap-batch", "Decode keys moved to the current KEK per batch while kek-unwrap-only KEKs are given; 0 moves none (default 100).", in: 0...1_000) {
            $0.rewrap.batch = $1
        },
        .number("rewrap-pause-ms", "Milliseconds between two batches of a KEK rotation (default 200).", in: 0...60_000) { $0.rewrap.pause = .milliseconds($1) },
        .list("kek-unwrap-only", "Another KEK of a rotation, which opens the keys it wrapped and wraps none: the new one before it becomes kek, then the old one until no key needs it (repeat, or separate with commas).") {
            $0.keys.unwrapOnlyKEKFiles = $1
        },
        .text("checkpoint-key", "The audit checkpoint signing key, base64 Ed25519 (mode 0600).") { $0.keys.checkpointKeyFile = $1 },
        .list("checkpoint-key-previous", "The verifier key file (.vkey) of an earlier checkpoint key, whose checkpoints still count after a rotation (repeat, or separate with commas).") {
            $0.keys.previousCheckpointVerifierFiles = $1
        },
        .text("signing-key-next", "The identity key that takes over at the moment its statement names, PEM (mode 0600; a rotation, docs/DEPLOYMENT.md).") {
            $0.keys.nextIdentity = TransactionTierConfiguration.NextIdentity(signingKeyFile: $1)
        },
        .text("tsa-cert-next", "The time-stamping certificate of signing-key-next, PEM chain from the same CA.") { configuration, file in
            guard configuration.keys.nextIdentity != nil else { throw SettingsError("the setting tsa-cert-next needs signing-key-next") }
            configuration.keys.nextIdentity?.tsaCertificateFile = file
        },
        .text("identity-rotation-next", "The statement naming signing-key-next and when it takes over, signed by signing-key (coffer-admin keys new-identity-key).") { configuration, file in
            guard configuration.keys.nextIdentity != nil else { throw SettingsError("the setting identity-rotation-next needs signing-key-next") }
            configuration.keys.nextIdentity?.statementFile = file
        },
        .list("identity-rotation", "The statement of an earlier identity rotation, served so clients that pinned an older key follow it (repeat, or separate with commas).") {
            $0.keys.identityRotationFiles = $1
        },
        .text("pkcs11-module", "A PKCS#11 module whose token holds the KEK, signing, session and checkpoint keys instead of the key files (default: key files).") {
            $0.keys.device = TransactionTierConfiguration.Device(modulePath: $1)
        },
        .text("token-label", "The label of the PKCS#11 token (default coffer; with pkcs11-module).") { configuration, label in
            guard configuration.keys.device != nil else { throw SettingsError("the setting token-label needs pkcs11-module") }
            configuration.keys.device?.tokenLabel = label
        },
        .text("token-pin-file", "A file of mode 0600 holding the token's user PIN (with pkcs11-module).") { configuration, file in
            guard configuration.keys.device != nil else { throw SettingsError("the setting token-pin-file needs pkcs11-module") }
            configuration.keys.device?.pinFile = file
        },
        .number("token-sessions", "PKCS#11 sessions opened at most; device calls beyond them wait (default 8; with pkcs11-module).", in: 1...256) {
            $0.keys.device?.sessions = $1
        },
        .text("curve-secret-key", "This process's CURVE secret key file (mode 0600).") { $0.tierLink.curveSecretKeyFile = $1 },
        .text("database-public-key", "The database tier's CURVE public key file: one key, and ENDPOINT KEY lines for endpoints with another (a rotation).") { $0.tierLink.databasePublicKeyFile = $1 },
        .list("database", "A database tier endpoint; repeat the flag, or separate with commas, for several.") { $0.tierLink.link.endpoints = $1 },
        .number("database-timeout", "Seconds one database-tier request may take, retries included, before a 503 (default \(defaults.tierLink.link.timeout.components.seconds)).", in: 1...3_600) {
            $0.tierLink.link.timeout = .seconds($1)
        },
        .number("database-attempt-ms", "Milliseconds one attempt waits before a database-tier request is sent again (default 1500).", in: 50...3_600_000) {
            $0.tierLink.link.attemptTimeout = .milliseconds($1)
        },
        .number("database-queue", "The most requests waiting for the database tier at once; more get 503 at once (default \(defaults.tierLink.link.queueLimit)).", in: 1...1_000_000) {
            $0.tierLink.link.queueLimit = $1
        },
        .number("database-heartbeat-seconds", "Seconds a silent database process stays connected before the link drops it and sends elsewhere (default \(defaults.tierLink.link.heartbeatTimeout.components.seconds)).", in: 2...3_600) {
            $0.tierLink.link.heartbeatTimeout = .seconds($1)
        },
        .number("session-minutes", "Minutes a login session lasts (default 15).", in: 1...10_080) { $0.sessions.lifetime = .seconds(60 * $1) },
        .number("lockout-attempts", "Failed logins in a row that lock an account (default \(defaults.lockout.attempts)).", in: 1...1_000) { $0.lockout.attempts = $1 },
        .number("lockout-minutes", "Minutes an account stays locked (default \(defaults.lockout.duration.components.seconds / 60)).", in: 1...100_000) {
            $0.lockout.duration = .seconds(60 * $1)
        },
        .text("audit-origin", "The audit log's origin: the first line of its checkpoints and the key's name (default \(defaults.audit.origin)).") { $0.audit.origin = $1 },
        .number("checkpoint-every", "Sign a checkpoint after this many new audit entries (default \(defaults.audit.checkpoints.everyEntries)).", in: 1...1_000_000) {
            $0.audit.checkpoints.everyEntries = Int64($1)
        },
        .number("checkpoint-seconds", "Sign a checkpoint at least this often, in seconds, while the log grows (default 10).", in: 1...86_400) {
            $0.audit.checkpoints.interval = .seconds($1)
        },
        .text("checkpoint-state", "A file that keeps the last signed checkpoint across restarts.") { $0.audit.checkpoints.stateFile = $1 },
        .number("accept-restore", "The index of the restore audit entry that `coffer-admin restore` printed: sign checkpoints across that restore once (docs/DEPLOYMENT.md, Restore).") {
            $0.audit.checkpoints.acceptRestore = Int64($1)
        },
        .number("failure-limit-source", "Failed logins or retrievals per source address per window before attempts are refused at once (default \(defaults.limits.failures.perSource)).", in: 1...1_000_000) {
            $0.limits.failures.perSource = $1
        },
        .number("failure-limit-user", "Failed logins or retrievals per user per window before attempts are refused at once (default \(defaults.limits.failures.perUser)).", in: 1...1_000_000) {
            $0.limits.failures.perUser = $1
        },
        .number("failure-window-seconds", "The failure window, and the window of the limits' audit summaries, in seconds (default 60).", in: 1...86_400) {
            $0.limits.failures.window = .seconds($1)
        },
        .number("user-change-burst", "Saves, retrievals and deletes one user may make at once, after a quiet spell (default \(defaults.limits.perUser.burst); 0 turns the limit off).") {
            $0.limits.perUser.burst = $1
        },
        .number("user-changes-per-hour", "Saves, retrievals and deletes one user regains per hour (default \(defaults.limits.perUser.perHour); 0 turns the limit off).") {
            $0.limits.perUser.perHour = $1
        },
        .number("register-burst", "Registrations one source address may make at once (default \(defaults.limits.registrationsPerSource.burst); 0 turns the limit off).") {
            $0.limits.registrationsPerSource.burst = $1
        },
        .number("registrations-per-hour", "Registrations one source address regains per hour (default \(defaults.limits.registrationsPerSource.perHour); 0 turns the limit off).") {
            $0.limits.registrationsPerSource.perHour = $1
        },
        .number("password-workers", "Password checks (PBKDF2) run at once, which bounds the CPU a flood of logins can take (default half the cores).", in: 1...1_024) {
            $0.limits.passwordWork.concurrent = $1
        },
        .number("password-queue", "Password checks that may wait for a worker; beyond them logins and registrations get 503 busy (default \(defaults.limits.passwordWork.waiting)).", in: 0...100_000) {
            $0.limits.passwordWork.waiting = $1
        },
        .number("drain-seconds", "Seconds SIGTERM waits for requests in flight before exiting anyway (default \(defaults.http.drainTimeout.components.seconds)).", in: 1...3_600) {
            $0.http.drainTimeout = .seconds($1)
        },
        .number("max-connections", "The most connections held at once; requests on connections beyond it get 503 busy with Retry-After (default \(defaults.http.maxConnections)).", in: 1...10_000_000) {
            $0.http.maxConnections = $1
        },
        .number("idle-seconds", "Seconds a connection may go without sending a complete request head or body part before it is closed (default \(defaults.http.idleTimeout.components.seconds)).", in: 1...86_400) {
            $0.http.idleTimeout = .seconds($1)
        },
        .text("log-level", "trace, debug, info, notice, warning, error or critical (default info).") { configuration, level in
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
                throw SettingsError("the setting log-level is one of trace, debug, info, notice, warning, error, critical, not '\(level)'")
            }
            configuration.logLevel = level
        },
        .text("web-module", "The browser module's folder, served at https://HOST:PORT/, or 'off' (default: web/module of this checkout, served if built).") {
            $0.web.moduleDirectory = $1 == "off" ? nil : $1
            $0.web.required = $1 != "off"
        },
        .text("ready-file", "A file to write https://HOST:PORT to once listening (and, with metrics, metrics=HOST:PORT on the next line).") { $0.readyFile = $1 },
        .text("metrics", "Answer GET /metrics (Prometheus) on HOST:PORT, a plain-HTTP listener of its own, never the HTTPS port (default none; port 0 picks one).") {
            $0.metricsEndpoint = $1
        },
    ]
}
