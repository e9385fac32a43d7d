import CofferAPI
import CofferTierLink
import CofferWire
import Crypto
import Foundation
import HTTPTypes
import Logging

extension FileService {
    /// Releases a decode key after the database tier has checked the request and audited it, and
    /// stages the record's next key generation for the re-seal.
    func retrieve(_ body: RetrieveRequest, _ request: SignedRequestContext) async throws -> RetrieveResponse {
        let (session, source) = (request.session, request.source)
        guard let recordID = RecordID.bytes(body.recordID) else { throw APIError.badRequest("recordID must be a UUID") }
        guard Validation.isValidRecordedFileName(body.fileName) else { throw APIError.badRequest("the file name is not valid") }
        let token = try Self.receiptToken(body.token)
        try userChanges.spendChange(of: session)
        try failures.check(source: source, user: session.user, strict: false)
        var failed = false
        defer { failures.finished(source: source, user: session.user, failed: failed, nowMs: Clock.nowMs()) }
        let next = try await auditingDeviceFailure(recordID: recordID, session: session, source: source) {
            try await makeNext(body, recordID: recordID, session: session)
        }
        let release = try WireMessages.releaseKey(recordID, fileName: body.fileName, token: token, session: session, source: source,
                                                  timeMs: Clock.nowMs(), next: next)
        let answer: Coffer_Wire_V1_KeyReleased
        do {
            let reply = try await database.call(release, replayGuard: request.replayGuard)
            guard case .keyReleased(let released) = reply else { throw database.unexpected(reply, to: release) }
            answer = released
        } catch DatabaseLinkError.refused(.notFound, _) {
            failed = true
            throw APIError(.notFound, "not_found", "no record \(body.recordID) belongs to you or is shared with you; the container may be another user's")
        } catch DatabaseLinkError.refused(.forbidden, let reason) {
            failed = true
            throw APIError(.forbidden, "refused", "the retrieval was refused: \(reason); the attempt is in your history")
        }
        let decodeKey = try await auditingDeviceFailure(recordID: recordID, session: session, source: source) {
            try await unwrapReleased(answer, recordID: recordID, session: session)
        }
        logger.info("released a decode key", metadata: ["coffer.user": "\(session.user)", "coffer.record_id": "\(body.recordID)"])
        await checkpointer.appended(index: answer.auditIndex)
        let reseal: ResealOffer?
        if let next, answer.nextStaged {
            reseal = ResealOffer(encodeKey: next.encodeKey, receipt: next.receipt)
        } else {
            reseal = await stageReseal(recordID: recordID, session: session, fileName: body.fileName, released: answer)
        }
        return RetrieveResponse(
            decodeKey: decodeKey.rawRepresentation.base64EncodedString(),
            decodePublicKey: decodeKey.publicKey.x963Representation.base64EncodedString(),
            reseal: reseal,
            auditIndex: answer.auditIndex,
            central: answer.centralCopyKept ? true : nil
        )
    }

    /// The record's next key generation, made before the release from the SHA-256 and size the
    /// client's receipt states, when it sent them; the database tier stages it only if they are the
    /// record's and the caller owns it. `nil` when the client sent neither, or says the record is
    /// another user's (shared with the caller): then the re-seal is staged after the release, for
    /// the owner the database tier names.
    ///
    /// - Throws: 400 when only one of them is sent, or either is malformed.
    private func makeNext(_ body: RetrieveRequest, recordID: [UInt8], session: Session) async throws -> KeyGeneration? {
        if let owner = body.owner, owner != session.user { return nil }
        guard body.sha256 != nil || body.size != nil else { return nil }
        guard let sha256 = body.sha256, Validation.isSHA256Hex(sha256), let size = body.size, size >= 0 else {
            throw APIError.badRequest("sha256 (64 lowercase hex digits) and a size that is not negative go together, or neither is sent")
        }
        return try await generations.make(recordID: recordID, session: session, fileName: body.fileName, sha256: sha256, size: size, now: Clock.nowMs())
    }

    /// Makes and stages the record's next key generation; `nil` (and a warning) when that fails,
    /// in which case the client keeps its container and the current key stays valid.
    private func stageReseal(recordID: [UInt8], session: Session, fileName: String, released: Coffer_Wire_V1_KeyReleased) async -> ResealOffer? {
        do {
            guard released.sha256.count == 32 else { throw APIError.internalError }
            let next = try await generations.make(recordID: recordID, session: session, owner: Self.owner(of: released, session), fileName: fileName,
                                                  sha256: Hex.encode(released.sha256), size: released.size, now: Clock.nowMs())
            _ = try await database.call(try WireMessages.stageReseal(next, owner: session.user))
            return ResealOffer(encodeKey: next.encodeKey, receipt: next.receipt)
        } catch {
            logger.warning("could not stage a re-seal", metadata: ["coffer.record_id": "\(RecordID.text(recordID) ?? "?")", "coffer.error": "\(error)"])
            return nil
        }
    }

    /// The owner of a released record: the one the database tier names, or the caller when it
    /// names none. A wrong name only makes the unwrap fail, since the wrapped key is bound to its owner.
    static func owner(of released: Coffer_Wire_V1_KeyReleased, _ session: Session) -> String {
        released.owner.isEmpty ? session.user : released.owner
    }

    /// Unwraps the decode key the database tier released; a stored key that does not open for its
    /// record is the operator's alarm (500).
    private func unwrapReleased(_ answer: Coffer_Wire_V1_KeyReleased, recordID: [UInt8], session: Session) async throws -> P256.KeyAgreement.PrivateKey {
        let (wrapped, encodeKeyID, owner) = (Array(answer.wrappedDecodeKey), Array(answer.encodeKeyID), Self.owner(of: answer, session))
        do {
            return try await TransactionMetrics.timed("release") {
                try await keys.perform { [keys] in
                    try keys.releaseDecodeKey(wrapped, recordID: recordID, owner: owner, encodeKeyID: encodeKeyID)
                }
            }
        } catch let mismatch as DecodeKeyMismatch {
            logger.critical("a stored decode key does not unwrap for its record", metadata: ["coffer.record_id": "\(RecordID.text(recordID) ?? "?")", "coffer.error": "\(mismatch)"])
            throw APIError.internalError
        }
    }

    /// Runs a step of a retrieval that calls the key backend. When the device fails, nothing is
    /// released: the refusal is audited (`retrieve_refused`, its detail naming the record) and the
    /// answer is 503.
    private func auditingDeviceFailure<T: Sendable>(recordID: [UInt8], session: Session, source: String, _ step: () async throws -> T) async throws -> T {
        do {
            return try await step()
        } catch let error as APIError where error.code == DeviceKeyBackend.unavailableCode {
            let record = RecordID.text(recordID) ?? "?"
            let detail = "record \(record): the cryptographic device failed; no key was released"
            do {
                _ = try await database.call(WireMessages.releaseFailed(user: session.user, source: source, detail: detail, timeMs: Clock.nowMs()))
            } catch {
                logger.error("could not audit a retrieval the device failed", metadata: ["coffer.record_id": "\(record)", "coffer.error": "\(error)"])
            }
            throw error
        }
    }
}
