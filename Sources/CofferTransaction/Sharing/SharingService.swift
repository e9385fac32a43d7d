import CofferAPI
import CofferTierLink
import CofferWire
import HTTPTypes
import Logging

/// Sharing: an owner grants another registered user the right to retrieve one record (and read and
/// replace its central copy) until a time or until revoked. The database tier keeps the grants and
/// checks them at every request on the record, so that a revocation holds at once, for sessions
/// already open too.
struct SharingService: Sendable {
    let database: DatabaseGateway
    let checkpointer: Checkpointer
    let userChanges: TokenBuckets
    let logger: Logger

    /// Shares the caller's record with `body.grantee`.
    func share(_ body: ShareRequest, recordID text: String, _ request: SignedRequestContext) async throws -> GrantChangeResponse {
        let recordID = try Self.recordID(text)
        guard Validation.isValidUserName(body.grantee) else { throw APIError.badRequest("grantee must be a valid user name") }
        if let expires = body.expires, expires <= 0 { throw APIError.badRequest("expires must be Unix milliseconds, or absent") }
        try userChanges.spendChange(of: request.session)
        let message = WireMessages.shareRecord(recordID, grantee: body.grantee, expiresMs: body.expires, session: request.session,
                                               source: request.source, timeMs: Clock.nowMs())
        let index = try await change(message, request, recordID: text)
        logger.info("shared a record", metadata: ["coffer.user": "\(request.session.user)", "coffer.record_id": "\(text)", "coffer.grantee": "\(body.grantee)"])
        return GrantChangeResponse(recordID: text, grantee: body.grantee, auditIndex: index)
    }

    /// Revokes the caller's grant of a record to `grantee`, at once.
    func unshare(recordID text: String, grantee: String, _ request: SignedRequestContext) async throws -> GrantChangeResponse {
        let recordID = try Self.recordID(text)
        guard Validation.isValidUserName(grantee) else { throw APIError.badRequest("grantee must be a valid user name") }
        try userChanges.spendChange(of: request.session)
        let message = WireMessages.unshareRecord(recordID, grantee: grantee, session: request.session, source: request.source, timeMs: Clock.nowMs())
        let index = try await change(message, request, recordID: text)
        logger.info("revoked a grant", metadata: ["coffer.user": "\(request.session.user)", "coffer.record_id": "\(text)", "coffer.grantee": "\(grantee)"])
        return GrantChangeResponse(recordID: text, grantee: grantee, auditIndex: index)
    }

    /// The live grants the caller made and those made to them.
    func grants(_ request: SignedRequestContext) async throws -> GrantsResponse {
        let message = WireMessages.listGrants(user: request.session.user, timeMs: Clock.nowMs())
        let answer = try await database.call(message, replayGuard: request.replayGuard)
        guard case .grants(let grants) = answer else { throw database.unexpected(answer, to: message) }
        let user = request.session.user
        return GrantsResponse(grants: try grants.grants.map { g in
            // Every grant listed is the caller's, made or received, and names valid users.
            guard let recordID = RecordID.text(Array(g.recordID)), g.sha256.count == 32, g.owner == user || g.grantee == user,
                  Validation.isValidUserName(g.owner), Validation.isValidUserName(g.grantee), Validation.isValidRecordedFileName(g.fileName)
            else { throw database.unexpected(answer, to: message) }
            let central = g.hasCentral ? CentralService.info(g.central) : nil
            guard !g.hasCentral || central != nil else { throw database.unexpected(answer, to: message) }
            return GrantInfo(
                recordID: recordID, owner: g.owner, grantee: g.grantee, fileName: g.fileName, sha256: Hex.encode(g.sha256), size: g.size,
                granted: g.grantedUnixMs, expires: g.expiresUnixMs == 0 ? nil : g.expiresUnixMs,
                central: central
            )
        })
    }

    /// A share or an unshare, with its refusals: the audit index of its entry.
    private func change(_ message: WireRequest.OneOf_Body, _ request: SignedRequestContext, recordID: String) async throws -> Int64 {
        let answer: WireResponse.OneOf_Body
        do {
            answer = try await database.call(message, replayGuard: request.replayGuard)
        } catch DatabaseLinkError.refused(.notFound, let reason) {
            throw APIError(.notFound, "not_found", reason == Self.noSuchRecord ? "no record \(recordID) belongs to you" : reason)
        } catch DatabaseLinkError.refused(.badRequest, let reason) {
            throw APIError.badRequest(reason)
        } catch DatabaseLinkError.refused(.forbidden, let reason) {
            throw APIError(.forbidden, "refused", "refused: \(reason)")
        }
        guard case .ack(let ack) = answer, ack.auditIndex > 0 else { throw database.unexpected(answer, to: message) }
        await checkpointer.appended(index: ack.auditIndex)
        return ack.auditIndex
    }

    /// The database tier's reason for a record that is not the requester's.
    static let noSuchRecord = "no record with this id belongs to the requester"

    private static func recordID(_ text: String) throws -> [UInt8] {
        guard let recordID = RecordID.bytes(text) else { throw APIError.badRequest("the record id must be a UUID") }
        return recordID
    }
}
