import CofferAPI
import CofferTierLink
import CofferWire
import Crypto
import Foundation
import Logging
import HTTPTypes

/// Files: saving (key pair, receipt, record), retrieving (the audited key release and the re-seal's
/// next generation), confirming a re-seal, deleting, and listing the caller's records.
///
/// Every durable effect goes through the database tier; keys are made and unwrapped here, and
/// every value the database tier sends back is checked before it is used.
struct FileService: Sendable {
    let database: DatabaseGateway
    let keys: any KeyBackend
    let generations: KeyGenerator
    let checkpointer: Checkpointer
    let failures: FailureLimiter
    let userChanges: TokenBuckets
    let logger: Logger

    /// Makes the key pair, receipt and record for a new save; answers after the record is committed.
    ///
    /// A save that carries the client's request id is made once: sent again after a lost answer,
    /// it is answered with the record the first one made (checked here like any answer from the
    /// other tier), and no second record or audit entry is written.
    func save(_ body: SaveRequest, _ request: SignedRequestContext) async throws -> SaveResponse {
        let session = request.session
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
        try userChanges.spendChange(of: session)
        let generation = try await generations.make(recordID: RecordID.random(), session: session, fileName: body.fileName, sha256: body.sha256,
                                              size: body.size, now: Clock.nowMs())
        let create = try WireMessages.createRecord(
            generation, sha256: digest, session: session, source: request.source, clientRequestID: clientRequestID
        )
        let answer: WireResponse.OneOf_Body
        do {
            answer = try await database.call(create, replayGuard: request.replayGuard)
        } catch DatabaseLinkError.refused(.conflict, let reason) where clientRequestID != nil {
            throw APIError(.conflict, "request_reused", "\(reason); save the file again")
        }
        switch answer {
        case .recordCreated(let earlier):
            return try earlierSave(earlier, body: body, owner: session.user)
        case .ack(let ack):
            await checkpointer.appended(index: ack.auditIndex)
            logger.info("saved a record", metadata: ["coffer.user": "\(session.user)", "coffer.record_id": "\(generation.receipt.recordID)"])
            return SaveResponse(recordID: generation.receipt.recordID, encodeKey: generation.encodeKey, receipt: generation.receipt, auditIndex: ack.auditIndex)
        default:
            throw database.unexpected(answer, to: create)
        }
    }

    /// The answer to a save sent again: the record its first sending made, once the database tier's
    /// reply checks out against the request.
    private func earlierSave(_ earlier: Coffer_Wire_V1_RecordCreated, body: SaveRequest, owner: String) throws -> SaveResponse {
        guard let recordID = RecordID.text(Array(earlier.recordID)), let receipt = try? Receipt.decode(Array(earlier.receipt)),
              receipt.recordID == recordID, receipt.owner == owner, receipt.fileName == body.fileName,
              receipt.sha256 == body.sha256, receipt.size == body.size,
              let key = try? P256.KeyAgreement.PublicKey(x963Representation: earlier.encodeKey),
              KeyWrapper.keyID(key) == Array(earlier.encodeKeyID), receipt.encodeKeyID == Hex.encode(Array(earlier.encodeKeyID))
        else {
            logger.error("the database tier answered a repeated save with a record that does not match it")
            throw APIError(.conflict, "request_reused", "the record this save made was re-sealed or changed since; save the file again")
        }
        logger.info("answered a repeated save with the record it made", metadata: ["coffer.user": "\(owner)", "coffer.record_id": "\(recordID)"])
        return SaveResponse(recordID: recordID, encodeKey: key.x963Representation.base64EncodedString(), receipt: receipt, auditIndex: earlier.auditIndex)
    }

    /// Confirms that the client replaced its container: the old decode key is destroyed.
    func confirmReseal(_ body: RecordRequest, _ request: SignedRequestContext) async throws -> RecordChangeResponse {
        let (recordID, token) = try Self.parse(body)
        try await change(WireMessages.confirmReseal(recordID, token: token, session: request.session, source: request.source, timeMs: Clock.nowMs()),
                         request, recordID: body.recordID)
        return RecordChangeResponse(recordID: body.recordID, status: "resealed")
    }

    /// Destroys a record's decode keys; the history keeps the event.
    func delete(_ body: RecordRequest, _ request: SignedRequestContext) async throws -> RecordChangeResponse {
        let (recordID, token) = try Self.parse(body)
        try userChanges.spendChange(of: request.session)
        try await change(WireMessages.deleteRecord(recordID, token: token, session: request.session, source: request.source, timeMs: Clock.nowMs()),
                         request, recordID: body.recordID)
        logger.info("deleted a record", metadata: ["coffer.user": "\(request.session.user)", "coffer.record_id": "\(body.recordID)"])
        return RecordChangeResponse(recordID: body.recordID, status: "deleted")
    }

    /// The caller's records, newest first.
    func records(_ request: SignedRequestContext) async throws -> RecordsResponse {
        let list = WireMessages.listRecords(owner: request.session.user)
        let answer = try await database.call(list, replayGuard: request.replayGuard)
        guard case .records(let records) = answer else { throw database.unexpected(answer, to: list) }
        return RecordsResponse(records: try records.records.map { r in
            guard let recordID = RecordID.text(Array(r.recordID)), r.sha256.count == 32 else { throw database.unexpected(answer, to: list) }
            let central = r.hasCentral ? CentralService.info(r.central) : nil
            guard !r.hasCentral || central != nil else { throw database.unexpected(answer, to: list) }
            return RecordInfo(recordID: recordID, fileName: r.fileName, sha256: Hex.encode(r.sha256), size: r.size,
                              created: r.createdUnixMs, resealed: r.resealedUnixMs == 0 ? nil : r.resealedUnixMs, deleted: r.deleted,
                              central: central)
        })
    }

    /// A confirmation or a deletion, with its refusals.
    private func change(_ body: WireRequest.OneOf_Body, _ request: SignedRequestContext, recordID: String) async throws {
        do {
            _ = try await database.call(body, replayGuard: request.replayGuard)
        } catch DatabaseLinkError.refused(.notFound, _) {
            throw APIError(.notFound, "not_found", "no record \(recordID) belongs to you")
        } catch DatabaseLinkError.refused(.forbidden, let reason) {
            throw APIError(.forbidden, "refused", "refused: \(reason)")
        }
    }

    /// The record and receipt token a client names.
    static func parse(_ body: RecordRequest) throws -> ([UInt8], Data) {
        guard let recordID = RecordID.bytes(body.recordID) else { throw APIError.badRequest("recordID must be a UUID") }
        return (recordID, try receiptToken(body.token))
    }

    /// A receipt's time-stamp token as a client presents it: base64, at most 16 KiB.
    static func receiptToken(_ text: String) throws -> Data {
        guard let token = Data(base64Encoded: text), !token.isEmpty, token.count <= 16 * 1024 else {
            throw APIError.badRequest("token must be the receipt's base64 time-stamp token")
        }
        return token
    }
}
