import CofferAPI
import CofferTierLink
import CofferWire
import Crypto
import Foundation
import Logging
import HTTPTypes
import CofferKeys

/// Accounts: the server's identity proof, registration, login, logout and password change.
///
/// Every password check runs behind the password-work gate, off the event loops; every attempt is
/// audited by the database tier before the answer; failed attempts spend the failure budgets.
struct AccountService: Sendable {
    let database: DatabaseGateway
    let keys: any KeyBackend
    let identity: IdentityKeys
    let tokens: SessionTokens
    let hasher: PasswordHasher
    let passwordWork: PasswordWorkGate
    let failures: FailureLimiter
    let registrations: TokenBuckets
    let lockout: Lockout
    let logger: Logger

    /// Signs a client's challenge with the identity key in force (the receipt signing key), and
    /// names the rotations that lead to it.
    func identity(_ body: IdentityRequest) async throws -> IdentityResponse {
        guard let challenge = Data(base64Encoded: body.challenge), challenge.count == ServerIdentity.challengeSize else {
            throw APIError.badRequest("the challenge must be \(ServerIdentity.challengeSize) random bytes in base64")
        }
        let signer = identity.active()
        let signature = try await keys.perform { try signer.sign(ServerIdentity.challengeMessage(Array(challenge))) }
        return IdentityResponse(
            serverKey: signer.publicKey.derRepresentation.base64EncodedString(),
            signature: signature.derRepresentation.base64EncodedString(),
            rotations: signer.rotations.isEmpty ? nil : signer.rotations
        )
    }

    /// Creates an account.
    func register(_ body: RegisterRequest, source: String) async throws -> RegisterResponse {
        guard Validation.isValidUserName(body.user) else {
            throw APIError.badRequest("the user name must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit")
        }
        if let problem = Validation.passwordProblem(body.password) { throw APIError.badRequest(problem) }
        let (device, _) = try Self.device(clientID: body.clientID, deviceKey: body.deviceKey)
        if let retryAfter = registrations.take("source:\(source)", nowMs: Clock.nowMs()) {
            throw APIError(.tooManyRequests, "rate_limited", "too many accounts were registered from this address; retry in \(retryAfter) s, or ask the operator", retryAfter: retryAfter)
        }
        let (hasher, password) = (self.hasher, body.password)
        let hash = try await passwordWork.run { try hasher.hash(password) }
        do {
            _ = try await database.call(WireMessages.registerUser(body.user, passwordHash: hash, device: device, source: source, timeMs: Clock.nowMs()))
        } catch DatabaseLinkError.refused(.conflict, _) {
            throw APIError(.conflict, "user_exists", "the user name \(body.user) is taken; choose another")
        }
        logger.info("registered a user", metadata: ["coffer.user": "\(body.user)"])
        return RegisterResponse(user: body.user)
    }

    /// Checks a password and opens a session bound to the client's device key; every attempt is
    /// audited before the answer, and repeated failures lock the account for a while.
    func login(_ body: LoginRequest, source: String) async throws -> LoginResponse {
        let refused = APIError(.unauthorized, "login_failed", "wrong user name or password")
        guard Validation.isValidUserName(body.user), body.password.utf8.count <= Validation.maxPasswordBytes else { throw refused }
        try failures.check(source: source, user: body.user, strict: true)
        var failed = false
        defer { failures.finished(source: source, user: body.user, failed: failed, nowMs: Clock.nowMs()) }
        let (device, deviceKey) = try Self.device(clientID: body.clientID, deviceKey: body.deviceKey)
        var stored: String?
        var locked = false, lockedByOperator = false
        do {
            if case .credentials(let c) = try await database.call(WireMessages.getCredentials(body.user)) {
                stored = c.passwordHash
                lockedByOperator = c.locked
                locked = c.locked || c.lockedUntilUnixMs > Clock.nowMs()
            }
        } catch DatabaseLinkError.refused(.notFound, _) {
            stored = nil
        }
        let (hasher, password) = (self.hasher, body.password)
        let against = stored ?? hasher.dummyHash()
        let matches = try await passwordWork.run { hasher.verify(password, against: against) }
        let success = stored != nil && matches && !locked
        let reason = stored == nil ? "unknown user" : (locked ? "account locked" : (matches ? "" : "wrong password"))
        do {
            _ = try await database.call(WireMessages.recordLogin(body.user, success: success, reason: reason, device: device, source: source,
                                                                 timeMs: Clock.nowMs(), lockout: lockout))
        } catch DatabaseLinkError.refused(.forbidden, _) {
            failed = true
            throw APIError(.forbidden, "device_conflict", "this client id is enrolled with a different device key; remove the client's state folder to make a new identity")
        }
        failed = !success
        guard success else {
            logger.notice("refused a login", metadata: ["coffer.user": "\(body.user)", "coffer.reason": "\(reason)", "coffer.source": "\(source)"])
            if lockedByOperator { throw APIError.accountLocked }
            if locked { throw APIError.lockedOut }
            throw refused
        }
        let (tokens, user, clientID) = (self.tokens, body.user, device.clientID)
        let session = try await keys.perform { try tokens.issue(for: Session(user: user, clientID: clientID, deviceKey: deviceKey)) }
        return LoginResponse(token: session.token, expiresAt: session.expiresAt)
    }

    /// Ends the caller's sessions on this device, or on all their devices; audited as `logout`.
    func logout(_ body: LogoutRequest, _ request: SignedRequestContext) async throws -> LogoutResponse {
        let session = request.session
        let end = WireMessages.endSessions(session, allDevices: body.everywhere, source: request.source, timeMs: max(Clock.nowMs(), session.issuedAtMs))
        let answer = try await database.call(end, replayGuard: request.replayGuard)
        guard case .ack = answer else { throw database.unexpected(answer, to: end) }
        logger.info("ended sessions", metadata: ["coffer.user": "\(session.user)", "coffer.everywhere": "\(body.everywhere)"])
        return LogoutResponse(ended: body.everywhere ? "everywhere" : "device")
    }

    /// Changes the caller's password once the current one checks out, and ends the sessions of the
    /// caller's other devices. A wrong current password is audited and counted like a failed login.
    func changePassword(_ body: PasswordChangeRequest, _ request: SignedRequestContext) async throws -> PasswordChangeResponse {
        let (session, source) = (request.session, request.source)
        if let problem = Validation.passwordProblem(body.newPassword) { throw APIError.badRequest(problem) }
        guard body.newPassword != body.password else { throw APIError.badRequest("the new password is the current one; choose another") }
        let wrong = APIError(.forbidden, "wrong_password", "the current password is wrong; the password was not changed")
        guard body.password.utf8.count <= Validation.maxPasswordBytes else { throw wrong }
        try failures.check(source: source, user: session.user, strict: true)
        var failed = false
        defer { failures.finished(source: source, user: session.user, failed: failed, nowMs: Clock.nowMs()) }
        // The replay guard rides on the first call: a replayed or ended session gets no password check.
        let query = WireMessages.getCredentials(session.user)
        let answer = try await database.call(query, replayGuard: request.replayGuard)
        guard case .credentials(let stored) = answer else { throw database.unexpected(answer, to: query) }
        if stored.locked { throw APIError.accountLocked }
        if stored.lockedUntilUnixMs > Clock.nowMs() { throw APIError.lockedOut }
        let (hasher, current, new, hash) = (self.hasher, body.password, body.newPassword, stored.passwordHash)
        let newHash = try await passwordWork.run { hasher.verify(current, against: hash) ? try hasher.hash(new) : nil }
        guard let newHash else {
            failed = true
            let device = WireMessages.device(clientID: session.clientID, publicKey: session.deviceKey.x963Representation)
            _ = try await database.call(WireMessages.recordLogin(session.user, success: false, reason: "wrong current password in a password change",
                                                                 device: device, source: source, timeMs: Clock.nowMs(), lockout: lockout))
            throw wrong
        }
        let change = WireMessages.setPassword(session, passwordHash: newHash, source: source, timeMs: max(Clock.nowMs(), session.issuedAtMs))
        let changed = try await database.call(change)
        guard case .ack = changed else { throw database.unexpected(changed, to: change) }
        logger.notice("changed a password", metadata: ["coffer.user": "\(session.user)", "coffer.source": "\(source)"])
        return PasswordChangeResponse(user: session.user)
    }

    /// Parses and checks a client installation's id and public key.
    static func device(clientID: String, deviceKey: String) throws -> (Coffer_Wire_V1_Device, P256.Signing.PublicKey) {
        guard RecordID.bytes(clientID) != nil else { throw APIError.badRequest("clientID must be a UUID") }
        guard let bytes = Data(base64Encoded: deviceKey), let key = try? P256.Signing.PublicKey(x963Representation: bytes) else {
            throw APIError.badRequest("deviceKey must be a base64 X9.63 P-256 public key")
        }
        return (WireMessages.device(clientID: clientID.lowercased(), publicKey: key.x963Representation), key)
    }
}
