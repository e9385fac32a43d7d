import CofferAPI
import CofferTierLink
import CofferWire
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Central copies: a record's encrypted container kept by the database tier. Uploads are announced
/// (checked against the record and the quota before any byte is sent), streamed to the database
/// tier in chunks, and committed there under their announced size and SHA-256; downloads are
/// audited before any byte leaves and streamed back chunk by chunk. No whole container is ever in
/// memory here, and only ciphertext passes.
struct CentralService: Sendable {
    let database: DatabaseGateway
    let checkpointer: Checkpointer
    let userChanges: TokenBuckets
    let logger: Logger

    /// Announces an upload: answers where to send the bytes and how many the service already has,
    /// or that the central copy already is these bytes.
    func begin(_ body: CentralUploadRequest, recordID text: String, _ request: SignedRequestContext) async throws -> CentralUploadResponse {
        guard let recordID = RecordID.bytes(text) else { throw APIError.badRequest("the record id must be a UUID") }
        guard Validation.isSHA256Hex(body.sha256), let digest = Hex.decode(body.sha256) else {
            throw APIError.badRequest("sha256 must be 64 lowercase hex digits")
        }
        guard body.size > 0 else { throw APIError.badRequest("size must be above 0") }
        let token = try FileService.receiptToken(body.token)
        try userChanges.spendChange(of: request.session)
        let message = WireMessages.beginUpload(recordID, sha256: digest, size: body.size, token: token, session: request.session,
                                               source: request.source, timeMs: Clock.nowMs())
        let answer = try await call(message, replayGuard: request.replayGuard, recordID: text)
        guard case .uploadReady(let ready) = answer, ready.received >= 0, ready.received <= body.size else {
            throw database.unexpected(answer, to: message)
        }
        if ready.alreadyCurrent {
            let current = try checked(ready.current, recordID: recordID, answer: answer, to: message)
            return CentralUploadResponse(recordID: text, uploadID: nil, received: body.size, done: true, central: current, auditIndex: nil)
        }
        guard Self.isUploadID(ready.uploadID, of: recordID) else { throw database.unexpected(answer, to: message) }
        return CentralUploadResponse(recordID: text, uploadID: ready.uploadID, received: ready.received, done: false, central: nil, auditIndex: nil)
    }

    /// Streams an upload's bytes from `offset` to the database tier in chunks, then commits it.
    func upload(_ body: HummingbirdCore.RequestBody, uploadID: String, offset start: Int64, _ request: SignedRequestContext) async throws -> CentralUploadResponse {
        guard let recordID = Self.recordID(ofUpload: uploadID), let recordText = RecordID.text(recordID) else {
            throw APIError(.notFound, "not_found", "no such upload; announce it again with POST /v1/records/{id}/central")
        }
        guard start >= 0 else { throw APIError.badRequest("offset must not be negative") }
        let session = request.session
        // The request's replay guard goes with its first call to the database tier only.
        var replayGuard: Coffer_Wire_V1_ReplayGuard? = request.replayGuard
        var offset = start
        var pending = ByteBuffer()
        var iterator = body.makeAsyncIterator()
        var ended = false
        while !ended || pending.readableBytes > 0 {
            if !ended, pending.readableBytes < WireDefaults.centralChunkSize {
                do {
                    if var buffer = try await iterator.next() { pending.writeBuffer(&buffer) } else { ended = true }
                } catch {
                    // The client went away midway: what reached the database tier stays staged for a resume.
                    logger.info("an upload stopped before its end", metadata: [
                        "coffer.user": "\(session.user)", "coffer.record_id": "\(recordText)", "coffer.staged": "\(offset)",
                        "coffer.error": "\(error)",
                    ])
                    throw error
                }
                continue
            }
            let bytes = pending.readBytes(length: min(pending.readableBytes, WireDefaults.centralChunkSize)) ?? []
            pending.discardReadBytes()
            let message = WireMessages.putChunk(uploadID, offset: offset, bytes: bytes, session: session)
            let answer = try await call(message, replayGuard: replayGuard, recordID: recordText)
            replayGuard = nil
            guard case .chunkStored(let stored) = answer, stored.received == offset + Int64(bytes.count) else {
                throw database.unexpected(answer, to: message)
            }
            offset = stored.received
            await UploadFaultInjection.afterChunk()
        }
        let commit = WireMessages.commitUpload(uploadID, session: session, source: request.source, timeMs: Clock.nowMs())
        let answer = try await call(commit, replayGuard: replayGuard, recordID: recordText)
        guard case .centralCopy(let copy) = answer else { throw database.unexpected(answer, to: commit) }
        let central = try checked(copy, recordID: recordID, answer: answer, to: commit)
        if copy.auditIndex > 0 { await checkpointer.appended(index: copy.auditIndex) }
        logger.info("stored a central copy", metadata: [
            "coffer.user": "\(session.user)", "coffer.record_id": "\(recordText)", "coffer.generation": "\(central.generation)",
            "coffer.bytes": "\(central.size)",
        ])
        return CentralUploadResponse(recordID: recordText, uploadID: nil, received: central.size, done: true, central: central,
                                     auditIndex: copy.auditIndex > 0 ? copy.auditIndex : nil)
    }

    /// The record's central copy, audited, then streamed chunk by chunk.
    func download(recordID text: String, _ request: SignedRequestContext) async throws -> Response {
        guard let recordID = RecordID.bytes(text) else { throw APIError.badRequest("the record id must be a UUID") }
        let session = request.session
        let open = WireMessages.openDownload(recordID, session: session, source: request.source, timeMs: Clock.nowMs())
        let answer = try await call(open, replayGuard: request.replayGuard, recordID: text)
        guard case .centralCopy(let copy) = answer, !copy.blobID.isEmpty else { throw database.unexpected(answer, to: open) }
        let central = try checked(copy, recordID: recordID, answer: answer, to: open)
        await checkpointer.appended(index: copy.auditIndex)
        var headers: HTTPFields = [.contentType: "application/octet-stream", .cacheControl: "no-store"]
        headers[HTTPField.Name(CentralHeaders.sha256)!] = central.sha256
        headers[HTTPField.Name(CentralHeaders.generation)!] = String(central.generation)
        headers[HTTPField.Name(CentralHeaders.auditIndex)!] = String(copy.auditIndex)
        let database = self.database
        let logger = self.logger
        let size = central.size
        let blobID = copy.blobID
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: Int(size)) { writer in
            var offset: Int64 = 0
            while offset < size {
                let length = Int(min(Int64(WireDefaults.centralChunkSize), size - offset))
                let read = WireMessages.readChunk(recordID, blobID: blobID, offset: offset, length: length, owner: session.user)
                let chunk: WireResponse.OneOf_Body
                do {
                    chunk = try await database.call(read)
                } catch {
                    // The status line is gone: the connection is cut short, and the client, which
                    // knows the length and the SHA-256, refuses what it got.
                    logger.warning("a central copy's download stopped", metadata: ["coffer.record_id": "\(text)", "coffer.error": "\(error)"])
                    throw error
                }
                guard case .chunkData(let data) = chunk, !data.data.isEmpty, data.data.count <= length else {
                    logger.error("the database tier answered a central copy's read with the wrong bytes", metadata: ["coffer.record_id": "\(text)"])
                    throw APIError.internalError
                }
                try await writer.write(ByteBuffer(bytes: data.data))
                offset += Int64(data.data.count)
            }
            try await writer.finish(nil)
        })
    }

    /// A central copy from the database tier, checked before anything is said of it.
    private func checked(_ copy: Coffer_Wire_V1_CentralCopy, recordID: [UInt8], answer: WireResponse.OneOf_Body,
                         to message: WireRequest.OneOf_Body) throws -> CentralCopyInfo {
        guard Array(copy.recordID) == recordID, let info = Self.info(copy) else { throw database.unexpected(answer, to: message) }
        return info
    }

    /// A central copy as the API says it, or `nil` when the database tier's description of it is
    /// malformed (a SHA-256 that is not 32 bytes, no bytes, no generation).
    static func info(_ copy: Coffer_Wire_V1_CentralCopy) -> CentralCopyInfo? {
        guard copy.sha256.count == 32, copy.size > 0, copy.generation > 0 else { return nil }
        return CentralCopyInfo(sha256: Hex.encode(copy.sha256), size: copy.size, generation: copy.generation, updated: copy.updatedUnixMs)
    }

    /// Calls the database tier, turning its refusals of central copies into their answers.
    private func call(_ message: WireRequest.OneOf_Body, replayGuard: Coffer_Wire_V1_ReplayGuard?, recordID: String) async throws -> WireResponse.OneOf_Body {
        do {
            return try await database.call(message, replayGuard: replayGuard)
        } catch DatabaseLinkError.refused(.notFound, let reason) {
            throw APIError(.notFound, "not_found", reason == "no such upload"
                ? "no such upload; announce it again with POST /v1/records/\(recordID)/central"
                : "record \(recordID) has no central copy you may read, or is not yours")
        } catch DatabaseLinkError.refused(.quotaExceeded, let reason) {
            throw APIError(.contentTooLarge, "quota_exceeded", reason)
        } catch DatabaseLinkError.refused(.conflict, let reason) {
            throw APIError(.conflict, "conflict", reason)
        } catch DatabaseLinkError.refused(.forbidden, let reason) {
            throw APIError(.forbidden, "refused", "refused: \(reason)")
        } catch DatabaseLinkError.refused(.badRequest, let reason) {
            throw APIError.badRequest(reason)
        }
    }

    /// Upload ids are `RECORDHEX-SHA256HEX`, as the database tier makes them.
    static func isUploadID(_ id: String, of recordID: [UInt8]) -> Bool {
        Self.recordID(ofUpload: id) == recordID
    }

    /// The record an upload id names, or `nil` for a string that is not one.
    static func recordID(ofUpload id: String) -> [UInt8]? {
        let parts = id.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 32, parts[1].count == 64,
              let record = Hex.decode(String(parts[0])), Hex.decode(String(parts[1])) != nil else { return nil }
        return record
    }
}
