import CofferKeys
public import CofferTierLink
import CofferWire
import HTTPTypes
public import CofferWebModule
public import Logging

/// The transaction tier's services, wired once from what they share: the way to the database tier,
/// the keys, the time-stamping authority, the checkpointer and the limits. The process builds them
/// over the tier link; a test builds them over an in-memory double of it.
public struct TransactionServices: Sendable {
    let accounts: AccountService
    let files: FileService
    let central: CentralService
    let sharing: SharingService
    let audit: AuditService
    let health: HealthService
    let rateLimits: RateLimitAuditor
    let authenticator: RequestAuthenticator
    let keys: any KeyBackend
    /// The identity key in force, and the next one of a rotation.
    let identity: IdentityKeys
    let drain: DrainState
    /// The browser module, when the process serves one, and where its manifest entered the audit log.
    let web: WebService?
    let webPublication = WebPublication()
    let gateway: DatabaseGateway

    /// - Parameters:
    ///   - database: The link to the database tier, or a double of it.
    ///   - settings: The sessions, lockout and limits settings of the process.
    ///   - webModule: The browser module to serve at the site's root, if any.
    ///   - keys: The tier's keys: files, or a cryptographic device.
    ///   - identity: The identity keys that sign and time-stamp: the backend's, and a rotation's next.
    public init(database: any DatabaseCalling, keys: any KeyBackend, identity: IdentityKeys, checkpointer: Checkpointer,
                settings: TransactionTierConfiguration, webModule: WebModule? = nil, logger: Logger) throws {
        let gateway = DatabaseGateway(link: database, logger: logger)
        self.gateway = gateway
        self.web = try webModule.map { try WebService(module: $0, identity: identity) }
        self.identity = identity
        let drain = DrainState()
        self.drain = drain
        let tokens = SessionTokens(mac: { [keys] in try keys.sessionMAC($0) }, otherMACs: { [keys] in try keys.otherSessionMACs($0) },
                                   lifetime: settings.sessions.lifetime)
        let failures = FailureLimiter(policy: settings.limits.failures)
        let userChanges = TokenBuckets(policy: settings.limits.perUser)
        let registrations = TokenBuckets(policy: settings.limits.registrationsPerSource)
        let passwordWork = PasswordWorkGate(policy: settings.limits.passwordWork, logger: logger)
        self.keys = keys
        self.authenticator = RequestAuthenticator(tokens: tokens, keys: keys)
        self.accounts = AccountService(
            database: gateway, keys: keys, identity: identity, tokens: tokens, hasher: PasswordHasher(rounds: settings.sessions.passwordRounds), passwordWork: passwordWork,
            failures: failures, registrations: registrations, lockout: settings.lockout, logger: logger
        )
        self.files = FileService(
            database: gateway, keys: keys, generations: KeyGenerator(keys: keys, identity: identity), checkpointer: checkpointer,
            failures: failures, userChanges: userChanges, logger: logger
        )
        self.central = CentralService(database: gateway, checkpointer: checkpointer, userChanges: userChanges, logger: logger)
        self.sharing = SharingService(database: gateway, checkpointer: checkpointer, userChanges: userChanges, logger: logger)
        self.audit = AuditService(database: gateway, keys: keys, identity: identity, checkpointer: checkpointer)
        self.health = HealthService(database: gateway, checkpointer: checkpointer, drain: drain)
        self.rateLimits = RateLimitAuditor(database: gateway, failures: failures, userChanges: userChanges, registrations: registrations,
                                           passwordWork: passwordWork, logger: logger)
    }

    /// Marks the start of a graceful shutdown: readiness fails from now on.
    public func beginDrain() { drain.begin() }

    /// Records in the audit log that this process serves its browser module, trying again every
    /// `retryInterval` while the database tier is unreachable or busy (or until the task is
    /// cancelled). A refusal or an answer that is not an acknowledgement is final: it is logged as an
    /// error, and the manifest then says the module is not recorded (no `auditIndex`).
    /// - Returns: The audit index of the entry, or nil when it was not recorded.
    @discardableResult
    public func publishWebModule(logger: Logger, retryInterval: Duration = .seconds(3)) async -> Int64? {
        guard let web else { return nil }
        let request = WireMessages.webModulePublished(manifestSHA256: web.manifestHash, files: web.module.files.count, timeMs: Clock.nowMs())
        while !Task.isCancelled {
            let answer: WireResponse.OneOf_Body
            do {
                answer = try await gateway.call(request)
            } catch let error as APIError where error.status == .serviceUnavailable {
                logger.warning("cannot record the browser module in the audit log yet; trying again", metadata: ["coffer.error": "\(error.message)"])
                try? await Task.sleep(for: retryInterval)
                continue
            } catch {
                logger.error("the database tier refused to record the browser module in the audit log; the manifest says it is not recorded",
                             metadata: ["coffer.error": "\(error)"])
                return nil
            }
            guard case .ack(let ack) = answer, ack.auditIndex >= 0 else {
                logger.error("the database tier answered the browser module's audit entry with something other than an acknowledgement; the manifest says it is not recorded")
                return nil
            }
            webPublication.recorded(at: ack.auditIndex)
            logger.info("serving the browser module", metadata: ["coffer.manifest_sha256": "\(web.manifestHash)", "coffer.audit_index": "\(ack.auditIndex)"])
            return ack.auditIndex
        }
        return nil
    }

    /// Audits the limits' refusals of the windows that ended (see ``RateLimitAuditor``).
    public func auditRateLimits() async { await rateLimits.auditRound() }
}
