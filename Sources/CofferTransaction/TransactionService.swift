public import CofferAPI
public import CofferWire
public import CofferTimestamp
import Crypto
import Foundation
public import Logging
import NIOPosix
import HTTPTypes

/// The transaction tier's operations, independent of HTTP: register, login, save, retrieve, history.
///
/// Every durable effect goes through the database tier; keys are made and unwrapped here.
public struct TransactionService: Sendable {
    let database: DatabaseLink
    let keys: ServerKeys
    let wrapper: KeyWrapper
    let tokens: SessionTokens
    let hasher: PasswordHasher
    let lockout: Lockout
    let timestamps: TimestampAuthority
    let checkpointer: Checkpointer
    let limiter: FailureLimiter
    let passwordWork: PasswordWorkGate
    let userChanges: TokenBuckets
    let registrations: TokenBuckets
    let auditWrites = AuditWriteHealth()
    let drain = DrainState()
    let logger: Logger

    /// How many failed logins in a row lock an account, and for how long.
    public struct Lockout: Sendable {
        public var attempts: Int
        public var duration: Duration
        public init(attempts: Int = 5, duration: Duration = .seconds(15 * 60)) {
            self.attempts = attempts
            self.duration = duration
        }
    }

    /// How much one account may change, and how many accounts one address may register.
    public struct ChangeLimits: Sendable, Equatable {
        /// Saves, retrievals and deletes per user (each writes records and audit entries).
        public var perUser = TokenBuckets.Policy(burst: 200, perHour: 3_600)
        /// Registrations per source address.
        public var registrationsPerSource = TokenBuckets.Policy(burst: 20, perHour: 20)
        public init() {}
    }

    public init(
        database: DatabaseLink, keys: ServerKeys, timestamps: TimestampAuthority, checkpointer: Checkpointer, sessionLifetime: Duration,
        passwordRounds: Int, lockout: Lockout = .init(), failureLimits: FailureLimiter.Policy = .init(),
        passwordWork: PasswordWorkGate.Policy = .init(), changeLimits: ChangeLimits = .init(), logger: Logger
    ) {
        self.userChanges = TokenBuckets(policy: changeLimits.perUser)
        self.registrations = TokenBuckets(policy: changeLimits.registrationsPerSource)
        self.limiter = FailureLimiter(policy: failureLimits)
        self.passwordWork = PasswordWorkGate(policy: passwordWork, logger: logger)
        self.database = database
        self.checkpointer = checkpointer
        self.timestamps = timestamps
        self.keys = keys
        self.wrapper = KeyWrapper(kek: keys.kek)
        self.tokens = SessionTokens(kek: keys.kek, lifetime: sessionLifetime)
        self.hasher = PasswordHasher(rounds: passwordRounds)
        self.lockout = lockout
        self.logger = logger
    }

    /// Signs a client's challenge with the server identity key (the receipt signing key).
    public func identity(_ body: IdentityRequest) throws -> IdentityResponse {
        guard let challenge = Data(base64Encoded: body.challenge), challenge.count == ServerIdentity.challengeSize else {
            throw APIError.badRequest("the challenge must be \(ServerIdentity.challengeSize) random bytes in base64")
        }
        let signature = try keys.signingKey.signature(for: ServerIdentity.challengeMessage(Array(challenge)))
        return IdentityResponse(
            serverKey: keys.signingKey.publicKey.derRepresentation.base64EncodedString(),
            signature: signature.derRepresentation.base64EncodedString()
        )
    }

    /// Parses and checks a client installation's id and public key.
    private func device(clientID: String, deviceKey: String) throws -> (Coffer_Wire_V1_Device, P256.Signing.PublicKey) {
        guard RecordID.bytes(clientID) != nil else { throw APIError.badRequest("clientID must be a UUID") }
        guard let bytes = Data(base64Encoded: deviceKey), let key = try? P256.Signing.PublicKey(x963Representation: bytes) else {
            throw APIError.badRequest("deviceKey must be a base64 X9.63 P-256 public key")
        }
        var device = Coffer_Wire_V1_Device()
        device.clientID = clientID.lowercased()
        device.publicKey = key.x963Representation
        return (device, key)
    }

    /// Creates an account.
    public func register(_ body: RegisterRequest, source: String) async throws -> RegisterResponse {
        guard Validation.isValidUserName(body.user) else {
            throw APIError.badRequest("the user name must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit")
        }
        if let problem = Validation.passwordProblem(body.password) { throw APIError.badRequest(problem) }
        let (device, _) = try device(clientID: body.clientID, deviceKey: body.deviceKey)
        if let retryAfter = registrations.take("source:\(source)", nowMs: Self.nowMs()) {
            throw APIError(.tooManyRequests, "rate_limited", "too many accounts were registered from this address; retry in \(retryAfter) s, or ask the operator", retryAfter: retryAfter)
        }
        let hasher = self.hasher
        let password = body.password
        let hash = try await passwordWork.run { try hasher.hash(password) }
        var message = Coffer_Wire_V1_RegisterUser()
        message.user = body.user
        message.passwordHash = hash
        message.source = source
        message.timeUnixMs = Self.nowMs()
        message.device = device
        do {
            _ = try await call(.registerUser(message))
        } catch DatabaseLinkError.refused(.conflict, _) {
            throw APIError(.conflict, "user_exists", "the user name \(body.user) is taken; choose another")
        }
        logger.info("registered a user", metadata: ["coffer.user": "\(body.user)"])
        return RegisterResponse(user: body.user)
    }

    /// Checks a password and opens a session bound to the client's device key; every attempt is
    /// audited before the answer, and repeated failures lock the account for a while.
    public func login(_ body: LoginRequest, source: String) async throws -> LoginResponse {
        let refused = APIError(.unauthorized, "login_failed", "wrong user name or password")
        guard Validation.isValidUserName(body.user), body.password.utf8.count <= Validation.maxPasswordBytes else {
            throw refused
        }
        try checkBudget(source: source, user: body.user, strict: true)
        var failed = false
        defer { limiter.finished(source: source, user: body.user, failed: failed, nowMs: Self.nowMs()) }
        let (device, deviceKey) = try device(clientID: body.clientID, deviceKey: body.deviceKey)
        var query = Coffer_Wire_V1_GetCredentials()
        query.user = body.user
        var stored: String?
        var locked = false, lockedByOperator = false
        do {
            if case .credentials(let c) = try await call(.getCredentials(query)) {
                stored = c.passwordHash
                lockedByOperator = c.locked
                locked = c.locked || c.lockedUntilUnixMs > Self.nowMs()
            }
        } catch DatabaseLinkError.refused(.notFound, _) {
            stored = nil
        }
        let hasher = self.hasher
        let password = body.password
        let against = stored ?? hasher.dummyHash()
        let matches = try await passwordWork.run { hasher.verify(password, against: against) }
        let success = stored != nil && matches && !locked
        let reason = stored == nil ? "unknown user" : (locked ? "account locked" : (matches ? "" : "wrong password"))
        do {
            _ = try await call(.recordLogin(loginAttempt(user: body.user, success: success, reason: reason, source: source, device: device)))
        } catch DatabaseLinkError.refused(.forbidden, _) {
            failed = true
            throw APIError(.forbidden, "device_conflict", "this client id is enrolled with a different device key; remove the client's state folder to make a new identity")
        }
        failed = !success
        guard success else {
            logger.notice("refused a login", metadata: ["coffer.user": "\(body.user)", "coffer.reason": "\(reason)", "coffer.source": "\(source)"])
            if lockedByOperator { throw Self.accountLocked }
            if locked { throw Self.lockedOut }
            throw refused
        }
        let session = tokens.issue(for: Session(user: body.user, clientID: device.clientID, deviceKey: deviceKey))
        return LoginResponse(token: session.token, expiresAt: session.expiresAt)
    }

    /// Checks a request's bearer token and device signature; returns the session and the replay
    /// guard the database tier enforces.
    public func authenticate(
        bearer: String?, method: String, path: String, body: [UInt8], time: String?, nonce: String?, signature: String?
    ) throws -> (Session, Coffer_Wire_V1_ReplayGuard) {
        guard let bearer, let session = tokens.session(for: bearer) else { throw APIError.unauthorized }
        guard let time, let timeMs = Int64(time), let nonce, let nonceBytes = Hex.decode(nonce), nonceBytes.count == 16, let signature else {
            throw APIError(.unauthorized, "unsigned", "the request is not signed by the client's device key; upgrade coffer")
        }
        guard abs(timeMs - Self.nowMs()) <= RequestSignature.maxClockSkewMs else {
            throw APIError(.unauthorized, "stale", "the request's time is more than 5 minutes off the server's clock; check the clock")
        }
        guard RequestSignature.isValid(signature: signature, key: session.deviceKey, method: method, path: path, timeMs: timeMs, nonce: nonce, body: body) else {
            throw APIError(.unauthorized, "bad_signature", "the request is not signed by the device this session belongs to")
        }
        var replayGuard = Coffer_Wire_V1_ReplayGuard()
        replayGuard.clientID = session.clientID
        replayGuard.nonce = Data(nonceBytes)
        replayGuard.timeUnixMs = timeMs
        replayGuard.user = session.user
        replayGuard.sessionIssuedUnixMs = session.issuedAtMs
        return (session, replayGuard)
    }

    /// Makes the key pair, receipt and record for a new save; answers after the record is committed.
    ///
    /// A save that carries the client's request id is made once: sent again after a lost answer,
    /// it is answered with the record the first one made (checked here like any answer from the
    /// other tier), and no second record or audit entry is written.
    public func save(_ body: SaveRequest, session: Session, replayGuard: Coffer_Wire_V1_ReplayGuard, source: String) async throws -> SaveResponse {
        let owner = session.user
        guard Validation.isValidFileName(body.fileName) else {
            throw APIError.badRequest("the file name must be \(Validation.fileNameRule)")
        }
        guard Validation.isSHA256Hex(body.sha256), let digest = Hex.decode(body.sha256) else {
            throw APIError.badRequest("sha256 must be 64 lowercase hex digits")
        }
        guard body.size >= 0 else { throw APIError.badRequest("size must not be negative") }
        let clientRequestID = try body.requestID.map { text in
            guard let bytes = RecordID.bytes(text) else { throw APIError.badRequest("requestID must be a UUID") }
            return bytes
        }
        try spendChange(session)
        let recordID = RecordID.random()
        let now = Self.nowMs()
        let (decodeKey, encodeKeyID, receipt, token) = try newGeneration(
            recordID: recordID, session: session, fileName: body.fileName, sha256: body.sha256, size: body.size, now: now
        )
        var record = Coffer_Wire_V1_CreateRecord()
        record.recordID = Data(recordID)
        record.owner = owner
        record.fileName = body.fileName
        record.sha256 = Data(digest)
        record.size = body.size
        record.timeUnixMs = now
        record.encodeKeyID = Data(encodeKeyID)
        record.wrappedDecodeKey = Data(try wrapper.wrap(decodeKey, recordID: recordID, owner: owner))
        record.receipt = Data(try receipt.encoded())
        record.receiptSignature = Data(token)
        record.source = source
        record.clientID = session.clientID
        if let clientRequestID {
            record.clientRequestID = Data(clientRequestID)
            record.encodeKey = decodeKey.publicKey.x963Representation
        }
        let answer: WireResponse.OneOf_Body
        do {
            answer = try await call(.createRecord(record), replayGuard: replayGuard)
        } catch DatabaseLinkError.refused(.conflict, let reason) where clientRequestID != nil {
            throw APIError(.conflict, "request_reused", "\(reason); save the file again")
        }
        if case .recordCreated(let earlier) = answer {
            return try earlierSave(earlier, body: body, owner: owner)
        }
        guard case .ack(let ack) = answer else { throw APIError.internalError }
        await checkpointer.appended(index: ack.auditIndex)
        logger.info("saved a record", metadata: ["coffer.user": "\(owner)", "coffer.record_id": "\(receipt.recordID)"])
        return SaveResponse(
            recordID: receipt.recordID,
            encodeKey: decodeKey.publicKey.x963Representation.base64EncodedString(),
            receipt: receipt,
            auditIndex: ack.auditIndex
        )
    }

    /// The answer to a save sent again: the record its first sending made, once the database tier's
    /// reply checks out against the request (a reply from the other tier is hostile until checked).
    private func earlierSave(_ earlier: Coffer_Wire_V1_RecordCreated, body: SaveRequest, owner: String) throws -> SaveResponse {
        guard earlier.recordID.count == 16, let receipt = try? Receipt.decode(Array(earlier.receipt)),
              receipt.recordID == RecordID.text(Array(earlier.recordID)), receipt.owner == owner, receipt.fileName == body.fileName,
              receipt.sha256 == body.sha256, receipt.size == body.size,
              let key = try? P256.KeyAgreement.PublicKey(x963Representation: earlier.encodeKey),
              KeyWrapper.keyID(key) == Array(earlier.encodeKeyID), receipt.encodeKeyID == Hex.encode(Array(earlier.encodeKeyID))
        else {
            logger.error("the database tier answered a repeated save with a record that does not match it")
            throw APIError(.conflict, "request_reused", "the record this save made was re-sealed or changed since; save the file again")
        }
        logger.info("answered a repeated save with the record it made", metadata: ["coffer.user": "\(owner)", "coffer.record_id": "\(receipt.recordID)"])
        return SaveResponse(recordID: receipt.recordID, encodeKey: key.x963Representation.base64EncodedString(), receipt: receipt, auditIndex: earlier.auditIndex)
    }

    /// Releases a decode key after the database tier has checked the request and audited it.
    public func retrieve(_ body: RetrieveRequest, session: Session, replayGuard: Coffer_Wire_V1_ReplayGuard, source: String) async throws -> RetrieveResponse {
        let owner = session.user
        guard let recordID = RecordID.bytes(body.recordID) else { throw APIError.badRequest("recordID must be a UUID") }
        guard Validation.isValidRecordedFileName(body.fileName) else { throw APIError.badRequest("the file name is not valid") }
        let token = try Self.receiptToken(body.token)
        try spendChange(session)
        try checkBudget(source: source, user: owner, strict: false)
        var failed = false
        defer { limiter.finished(source: source, user: owner, failed: failed, nowMs: Self.nowMs()) }
        var release = Coffer_Wire_V1_ReleaseKey()
        release.recordID = Data(recordID)
        release.owner = owner
        release.fileName = body.fileName
        release.receiptSignature = token
        release.source = source
        release.timeUnixMs = Self.nowMs()
        release.clientID = session.clientID
        let answer: Coffer_Wire_V1_KeyReleased
        do {
            guard case .keyReleased(let released) = try await call(.releaseKey(release), replayGuard: replayGuard) else {
                throw APIError.internalError
            }
            answer = released
        } catch DatabaseLinkError.refused(.notFound, _) {
            failed = true
            throw APIError(.notFound, "not_found", "no record \(body.recordID) belongs to you; the container may be another user's")
        } catch DatabaseLinkError.refused(.forbidden, let reason) {
            failed = true
            throw APIError(.forbidden, "refused", "the retrieval was refused: \(reason); the attempt is in your history")
        }
        let decodeKey: P256.KeyAgreement.PrivateKey
        do {
            decodeKey = try wrapper.unwrap(Array(answer.wrappedDecodeKey), recordID: recordID, owner: owner, encodeKeyID: Array(answer.encodeKeyID))
        } catch {
            logger.critical("a stored decode key does not unwrap under the KEK", metadata: ["coffer.record_id": "\(body.recordID)"])
            throw APIError.internalError
        }
        logger.info("released a decode key", metadata: ["coffer.user": "\(owner)", "coffer.record_id": "\(body.recordID)"])
        await checkpointer.appended(index: answer.auditIndex)
        return RetrieveResponse(
            decodeKey: decodeKey.rawRepresentation.base64EncodedString(),
            reseal: await stageReseal(recordID: recordID, session: session, fileName: body.fileName, released: answer),
            auditIndex: answer.auditIndex
        )
    }

    /// Makes and stages the record's next key generation; `nil` (and a warning) when that fails,
    /// in which case the client keeps its container and the current key stays valid.
    private func stageReseal(recordID: [UInt8], session: Session, fileName: String, released: Coffer_Wire_V1_KeyReleased) async -> ResealOffer? {
        do {
            let next = try newGeneration(recordID: recordID, session: session, fileName: fileName,
                                         sha256: Hex.encode(released.sha256), size: released.size, now: Self.nowMs())
            var stage = Coffer_Wire_V1_StageReseal()
            stage.recordID = Data(recordID)
            stage.owner = session.user
            stage.wrappedDecodeKey = Data(try wrapper.wrap(next.decodeKey, recordID: recordID, owner: session.user))
            stage.encodeKeyID = Data(next.encodeKeyID)
            stage.receipt = Data(try next.receipt.encoded())
            stage.receiptSignature = Data(next.token)
            _ = try await call(.stageReseal(stage))
            return ResealOffer(encodeKey: next.decodeKey.publicKey.x963Representation.base64EncodedString(), receipt: next.receipt)
        } catch {
            logger.warning("could not stage a re-seal", metadata: ["coffer.record_id": "\(RecordID.text(recordID))", "coffer.error": "\(error)"])
            return nil
        }
    }

    /// Confirms that the client replaced its container: the old decode key is destroyed.
    public func confirmReseal(_ body: RecordRequest, session: Session, replayGuard: Coffer_Wire_V1_ReplayGuard, source: String) async throws -> RecordChangeResponse {
        let (recordID, token) = try parse(body)
        var confirm = Coffer_Wire_V1_ConfirmReseal()
        confirm.recordID = Data(recordID)
        confirm.owner = session.user
        confirm.receiptSignature = Data(token)
        confirm.source = source
        confirm.timeUnixMs = Self.nowMs()
        confirm.clientID = session.clientID
        try await change(.confirmReseal(confirm), replayGuard: replayGuard, recordID: body.recordID)
        return RecordChangeResponse(recordID: body.recordID, status: "resealed")
    }

    /// Destroys a record's decode keys; the history keeps the event.
    public func delete(_ body: RecordRequest, session: Session, replayGuard: Coffer_Wire_V1_ReplayGuard, source: String) async throws -> RecordChangeResponse {
        let (recordID, token) = try parse(body)
        try spendChange(session)
        var delete = Coffer_Wire_V1_DeleteRecord()
        delete.recordID = Data(recordID)
        delete.owner = session.user
        delete.receiptSignature = Data(token)
        delete.source = source
        delete.timeUnixMs = Self.nowMs()
        delete.clientID = session.clientID
        try await change(.deleteRecord(delete), replayGuard: replayGuard, recordID: body.recordID)
        logger.info("deleted a record", metadata: ["coffer.user": "\(session.user)", "coffer.record_id": "\(body.recordID)"])
        return RecordChangeResponse(recordID: body.recordID, status: "deleted")
    }

    /// Ends the caller's sessions on this device, or on all their devices; audited as `logout`.
    public func logout(_ body: LogoutRequest, session: Session, replayGuard: Coffer_Wire_V1_ReplayGuard, source: String) async throws -> LogoutResponse {
        var end = Coffer_Wire_V1_EndSessions()
        end.user = session.user
        end.clientID = session.clientID
        end.allDevices = body.everywhere
        end.source = source
        end.timeUnixMs = max(Self.nowMs(), session.issuedAtMs)
        guard case .ack = try await call(.endSessions(end), replayGuard: replayGuard) else { throw APIError.internalError }
        logger.info("ended sessions", metadata: ["coffer.user": "\(session.user)", "coffer.everywhere": "\(body.everywhere)"])
        return LogoutResponse(ended: body.everywhere ? "everywhere" : "device")
    }

    /// Changes the caller's password once the current one checks out, and ends the sessions of the
    /// caller's other devices. A wrong current password is audited and counted like a failed login.
    public func changePassword(_ body: PasswordChangeRequest, session: Session, replayGuard: Coffer_Wire_V1_ReplayGuard, source: String) async throws -> PasswordChangeResponse {
        if let problem = Validation.passwordProblem(body.newPassword) { throw APIError.badRequest(problem) }
        guard body.newPassword != body.password else { throw APIError.badRequest("the new password is the current one; choose another") }
        let wrong = APIError(.forbidden, "wrong_password", "the current password is wrong; the password was not changed")
        guard body.password.utf8.count <= Validation.maxPasswordBytes else { throw wrong }
        try checkBudget(source: source, user: session.user, strict: true)
        var failed = false
        defer { limiter.finished(source: source, user: session.user, failed: failed, nowMs: Self.nowMs()) }
        var query = Coffer_Wire_V1_GetCredentials()
        query.user = session.user
        // The replay guard rides on the first call: a replayed or ended session gets no password check.
        guard case .credentials(let stored) = try await call(.getCredentials(query), replayGuard: replayGuard) else { throw APIError.internalError }
        if stored.locked { throw Self.accountLocked }
        if stored.lockedUntilUnixMs > Self.nowMs() { throw Self.lockedOut }
        let hasher = self.hasher
        let (current, new, hash) = (body.password, body.newPassword, stored.passwordHash)
        let newHash = try await passwordWork.run { hasher.verify(current, against: hash) ? try hasher.hash(new) : nil }
        guard let newHash else {
            failed = true
            var device = Coffer_Wire_V1_Device()
            device.clientID = session.clientID
            device.publicKey = session.deviceKey.x963Representation
            _ = try await call(.recordLogin(loginAttempt(user: session.user, success: false, reason: "wrong current password in a password change",
                                                         source: source, device: device)))
            throw wrong
        }
        var change = Coffer_Wire_V1_SetPassword()
        change.user = session.user
        change.passwordHash = newHash
        change.clientID = session.clientID
        change.source = source
        change.timeUnixMs = max(Self.nowMs(), session.issuedAtMs)
        guard case .ack = try await call(.setPassword(change)) else { throw APIError.internalError }
        logger.notice("changed a password", metadata: ["coffer.user": "\(session.user)", "coffer.source": "\(source)"])
        return PasswordChangeResponse(user: session.user)
    }

    /// The audit of a password check, with the lockout policy the database tier applies to failures.
    private func loginAttempt(user: String, success: Bool, reason: String, source: String, device: Coffer_Wire_V1_Device) -> Coffer_Wire_V1_RecordLogin {
        var audit = Coffer_Wire_V1_RecordLogin()
        audit.user = user
        audit.success = success
        audit.reason = reason
        audit.source = source
        audit.timeUnixMs = Self.nowMs()
        audit.device = device
        audit.maxFailures = UInt32(lockout.attempts)
        audit.lockMs = Int64(lockout.duration.components.seconds * 1000)
        return audit
    }

    /// The caller's records, newest first.
    public func records(session: Session, replayGuard: Coffer_Wire_V1_ReplayGuard) async throws -> RecordsResponse {
        var list = Coffer_Wire_V1_ListRecords()
        list.owner = session.user
        guard case .records(let records) = try await call(.listRecords(list), replayGuard: replayGuard) else { throw APIError.internalError }
        return RecordsResponse(records: records.records.map { r in
            RecordInfo(recordID: RecordID.text(Array(r.recordID)), fileName: r.fileName, sha256: Hex.encode(r.sha256), size: r.size,
                       created: r.createdUnixMs, resealed: r.resealedUnixMs == 0 ? nil : r.resealedUnixMs, deleted: r.deleted)
        })
    }

    private func parse(_ body: RecordRequest) throws -> ([UInt8], Data) {
        guard let recordID = RecordID.bytes(body.recordID) else { throw APIError.badRequest("recordID must be a UUID") }
        return (recordID, try Self.receiptToken(body.token))
    }

    /// A receipt's time-stamp token as a client presents it: base64, at most 16 KiB.
    private static func receiptToken(_ text: String) throws -> Data {
        guard let token = Data(base64Encoded: text), !token.isEmpty, token.count <= 16 * 1024 else {
            throw APIError.badRequest("token must be the receipt's base64 time-stamp token")
        }
        return token
    }

    private func change(_ body: WireRequest.OneOf_Body, replayGuard: Coffer_Wire_V1_ReplayGuard, recordID: String) async throws {
        do {
            _ = try await call(body, replayGuard: replayGuard)
        } catch DatabaseLinkError.refused(.notFound, _) {
            throw APIError(.notFound, "not_found", "no record \(recordID) belongs to you")
        } catch DatabaseLinkError.refused(.forbidden, let reason) {
            throw APIError(.forbidden, "refused", "refused: \(reason)")
        }
    }

    /// A fresh key pair for a record and its time-stamped receipt.
    private func newGeneration(recordID: [UInt8], session: Session, fileName: String, sha256: String, size: Int64, now: Int64) throws
        -> (decodeKey: P256.KeyAgreement.PrivateKey, encodeKeyID: [UInt8], receipt: Receipt, token: [UInt8]) {
        let decodeKey = P256.KeyAgreement.PrivateKey()
        let encodeKeyID = KeyWrapper.keyID(decodeKey.publicKey)
        var receipt = Receipt(
            recordID: RecordID.text(recordID), owner: session.user, clientID: session.clientID, fileName: fileName,
            sha256: sha256, size: size, time: now, encodeKeyID: Hex.encode(encodeKeyID)
        )
        let token = try timestamps.stamp(sha256: receipt.imprint)
        receipt.token = Data(token).base64EncodedString()
        return (decodeKey, encodeKeyID, receipt, token)
    }

    /// The owner's audit history, or one of their record's.
    public func history(session: Session, replayGuard: Coffer_Wire_V1_ReplayGuard, recordID: String?) async throws -> HistoryResponse {
        var list = Coffer_Wire_V1_ListHistory()
        list.owner = session.user
        if let recordID {
            guard let bytes = RecordID.bytes(recordID) else { throw APIError.badRequest("the record id must be a UUID") }
            list.recordID = Data(bytes)
        }
        let answer: WireResponse.OneOf_Body
        do {
            answer = try await call(.listHistory(list), replayGuard: replayGuard)
        } catch DatabaseLinkError.refused(.notFound, _) {
            throw APIError(.notFound, "not_found", "no record \(recordID ?? "") belongs to you")
        }
        guard case .history(let history) = answer else { throw APIError.internalError }
        return HistoryResponse(events: history.events.map { event in
            HistoryEvent(
                index: event.index, time: event.timeUnixMs, kind: event.kind, user: event.user,
                recordID: event.recordID.count == 16 ? RecordID.text(Array(event.recordID)) : nil,
                fileName: event.fileName.isEmpty ? nil : event.fileName, detail: event.detail, source: event.source,
                clientID: event.clientID, leaf: event.leaf.isEmpty ? nil : event.leaf.base64EncodedString()
            )
        })
    }

    /// The newest checkpoint of the audit log, signed now if the log grew, with the identity key's
    /// statement naming the checkpoint key. The request's nonce is consumed like any other's, so a
    /// replayed request is refused.
    public func auditCheckpoint(replayGuard: Coffer_Wire_V1_ReplayGuard) async throws -> AuditCheckpointResponse {
        _ = try await call(.ping(.init()), replayGuard: replayGuard)
        let signed: Checkpointer.Signed
        do {
            signed = try await checkpointer.current()
        } catch let error as CheckpointError {
            if case .inconsistent = error {
                throw APIError(.serviceUnavailable, "audit_inconsistent", "the audit log is inconsistent with an earlier checkpoint; the operator has been alerted")
            }
            throw APIError.unavailable("no audit checkpoint is available: \(error)")
        } catch let error as DatabaseLinkError {
            throw APIError.unavailable("the key service's database tier is unavailable (\(error)); retry shortly")
        }
        let statement = try keys.signingKey.signature(for: AuditKeyStatement.message(verifierKey: checkpointer.verifierKey))
        return AuditCheckpointResponse(
            checkpoint: signed.note, verifierKey: checkpointer.verifierKey,
            verifierKeySignature: statement.derRepresentation.base64EncodedString()
        )
    }

    /// Inclusion proofs of the caller's own entries and a consistency proof, at a checkpoint's size.
    public func auditProofs(_ body: AuditProofsRequest, session: Session, replayGuard: Coffer_Wire_V1_ReplayGuard) async throws -> AuditProofsResponse {
        guard body.treeSize > 0, body.indexes.count <= 1_000, body.indexes.allSatisfy({ $0 >= 0 && $0 < body.treeSize }),
              body.fromSize.map({ $0 >= 0 && $0 <= body.treeSize }) ?? true
        else { throw APIError.badRequest("treeSize must be positive, indexes (at most 1000) below it, and fromSize at most treeSize") }
        var ask = Coffer_Wire_V1_GetAuditProofs()
        ask.treeSize = body.treeSize
        ask.indexes = body.indexes
        ask.owner = session.user
        if let from = body.fromSize { ask.fromSizes = [from] }
        let answer: WireResponse.OneOf_Body
        do {
            answer = try await call(.getAuditProofs(ask), replayGuard: replayGuard)
        } catch DatabaseLinkError.refused(.notFound, _) {
            throw APIError(.notFound, "not_found", "the tree size is beyond the log, or an index is not one of your entries")
        }
        guard case .auditProofs(let proofs) = answer else { throw APIError.internalError }
        return AuditProofsResponse(
            treeSize: proofs.treeSize, rootHash: proofs.rootHash.base64EncodedString(),
            inclusion: proofs.inclusion.map { AuditInclusionProof(index: $0.index, leaf: $0.leaf.base64EncodedString(), proof: $0.hashes.map { $0.base64EncodedString() }) },
            consistency: body.fromSize.flatMap { from in proofs.consistency.first { $0.fromSize == from }?.hashes.map { $0.base64EncodedString() } }
        )
    }

    /// Spends one of the user's change tokens (saves, retrievals, deletes), or refuses with 429 and
    /// no audit entry of its own; the refusals are audited in one entry per user and window. A
    /// re-seal confirmation, a logout and a password change are never refused by it: each is bounded
    /// otherwise, and a user whose session is abused must always be able to end it.
    private func spendChange(_ session: Session) throws {
        if let retryAfter = userChanges.take("user:\(session.user)", nowMs: Self.nowMs()) {
            throw APIError(.tooManyRequests, "rate_limited", "too many saves, retrievals and deletes for this account; retry in \(retryAfter) s", retryAfter: retryAfter)
        }
    }

    /// Refuses at once, with 429 and no audit entry of its own, an attempt from a source or for a user
    /// that used up its failure budget; the refusals are audited in one entry per window.
    private func checkBudget(source: String, user: String, strict: Bool) throws {
        if let retryAfter = limiter.admit(source: source, user: user, nowMs: Self.nowMs(), strict: strict) {
            throw APIError(.tooManyRequests, "rate_limited", "too many failed attempts from this address or for this account; retry in \(retryAfter) s", retryAfter: retryAfter)
        }
    }

    /// Audits, one entry per key and window, the attempts the failure budget refused, and in one
    /// more entry the password checks refused busy since the last call.
    public func auditRateLimits() async {
        var entries: [Coffer_Wire_V1_AppendAudit] = []
        for summary in limiter.drain(nowMs: Self.nowMs()) {
            var entry = Coffer_Wire_V1_AppendAudit()
            entry.kind = "rate_limited"
            entry.user = summary.key.hasPrefix("user:") ? String(summary.key.dropFirst(5)) : "-"
            entry.source = summary.key.hasPrefix("source:") ? String(summary.key.dropFirst(7)) : ""
            entry.detail = "\(summary.refused) attempts refused after too many failures (\(summary.key), window from \(summary.windowStartMs))"
            entries.append(entry)
        }
        let windowMs = Int64(limiter.policy.window.components.seconds * 1000)
        for (buckets, what) in [(userChanges, "saves, retrievals and deletes refused beyond the per-user limit"),
                                (registrations, "registrations refused beyond the per-address limit")] {
            for summary in buckets.drain(nowMs: Self.nowMs(), windowMs: windowMs) {
                var entry = Coffer_Wire_V1_AppendAudit()
                entry.kind = "rate_limited"
                entry.user = summary.key.hasPrefix("user:") ? String(summary.key.dropFirst(5)) : "-"
                entry.source = summary.key.hasPrefix("source:") ? String(summary.key.dropFirst(7)) : ""
                entry.detail = "\(summary.refused) \(what) (\(summary.key), window from \(summary.windowStartMs))"
                entries.append(entry)
            }
        }
        let busy = passwordWork.drainRefusals()
        if busy > 0 {
            var entry = Coffer_Wire_V1_AppendAudit()
            entry.kind = "rate_limited"
            entry.user = "-"
            entry.detail = "\(busy) logins or registrations refused busy: \(passwordWork.policy.concurrent) password checks running and \(passwordWork.policy.waiting) waiting"
            entries.append(entry)
        }
        for var entry in entries {
            entry.timeUnixMs = Self.nowMs()
            do {
                _ = try await call(.appendAudit(entry))
            } catch {
                logger.error("cannot audit rate-limited attempts", metadata: ["coffer.detail": "\(entry.detail)", "coffer.error": "\(error)"])
            }
        }
    }

    /// Whether this process should receive requests: not draining, the database tier answers, and
    /// audit entries can be written and checkpoints signed.
    public func readiness() async -> (ok: Bool, detail: String) {
        if drain.draining { return (false, "draining") }
        if let fault = auditFault() { return (false, "audit \(fault)") }
        let database = await databaseHealth()
        return database.ok ? (true, database.detail) : (false, "database tier unavailable")
    }

    /// Marks the start of a graceful shutdown.
    public func beginDrain() { drain.begin() }

    /// Why the audit history is not healthy, or `nil`.
    public func auditFault() -> String? {
        if let inconsistent = checkpointer.fault { return "inconsistent: \(inconsistent)" }
        if let failing = auditWrites.failure { return "failing: \(failing)" }
        return nil
    }

    /// Whether the database tier answers.
    public func databaseHealth() async -> (ok: Bool, detail: String) {
        do {
            guard case .pong(let pong) = try await database.call(.ping(.init())) else { return (false, "unexpected answer") }
            return (true, "\(pong.store), schema \(pong.schemaVersion)")
        } catch {
            return (false, "\(error)")
        }
    }

    /// Calls the database tier, turning link failures into API errors; refusals pass through.
    private func call(_ body: WireRequest.OneOf_Body, replayGuard: Coffer_Wire_V1_ReplayGuard? = nil) async throws -> WireResponse.OneOf_Body {
        do {
            let answer = try await database.call(body, replayGuard: replayGuard)
            if AuditWriteHealth.audits(body) { auditWrites.succeeded() }
            return answer
        } catch DatabaseLinkError.refused(.auditFailed, let why) {
            auditWrites.failed(why)
            logger.critical("the database tier could not write an audit entry; the operation did not happen", metadata: ["coffer.error": "\(why)"])
            throw APIError(.serviceUnavailable, "audit_unavailable", "the audit history could not be written, so nothing was done; retry later, and tell the operator if it persists", retryAfter: 5)
        } catch DatabaseLinkError.unavailable(let why) {
            logger.warning("database tier unavailable", metadata: ["coffer.error": "\(why)"])
            throw APIError.unavailable("the key service's database tier is unavailable (\(why)); retry shortly")
        } catch DatabaseLinkError.refused(.replayed, _) {
            throw APIError(.conflict, "replayed", "this request was already received; a replayed request is refused")
        } catch DatabaseLinkError.refused(.sessionEnded, _) {
            throw Self.sessionEnded
        } catch DatabaseLinkError.refused(.accountLocked, _) {
            // Sessions issued before an operator locked the account get nothing more.
            throw Self.accountLocked
        } catch DatabaseLinkError.refused(.unavailable, _) {
            throw APIError.unavailable("the key service's database is unavailable; retry shortly")
        } catch DatabaseLinkError.protocolViolation(let why) {
            logger.error("tier protocol violation", metadata: ["coffer.error": "\(why)"])
            throw APIError.internalError
        }
    }

    static let sessionEnded = APIError(.unauthorized, "session_ended", "this session was ended by a logout or a password change; run `coffer login`")
    static let lockedOut = APIError(.forbidden, "account_locked", "the account is locked after repeated failed logins; try again later or ask the operator")
    static let accountLocked = APIError(.forbidden, "account_locked", "the account is locked by an operator; ask the operator to unlock it")

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
