import CofferAudit
public import CofferStorage
import CofferWire
import Foundation
public import Logging

/// Answers tier-protocol requests from the store: decodes them, checks the version and the replay
/// guard, runs a changing request once per request id, commits a batch together, and maps what
/// went wrong to the error answer. Each request kind is answered by its own ``DatabaseOperation``.
///
/// Runs on the database tier's server thread; owns the store connection and reopens it after the
/// connection is lost.
public final class RequestDispatcher {
    private let openStore: () throws -> RecordStore
    private var store: RecordStore?
    private let logger: Logger
    private var lastForget: Int64 = 0
    /// When unnamed blobs were last swept (0: not since start, so the first batch does).
    private var lastSweep: Int64 = 0
    /// How long request nonces are remembered; the transaction tier refuses requests older than half of this.
    static let nonceRetentionMs: Int64 = 10 * 60 * 1000

    /// Creates a dispatcher that opens its store with `openStore` (now and after a lost connection).
    public init(logger: Logger, openStore: @escaping () throws -> RecordStore) throws {
        self.openStore = openStore
        self.logger = logger
        self.store = try openStore()
    }

    /// Decodes, answers and encodes one request; `nil` when the bytes are not a request at all.
    public func handle(_ bytes: [UInt8]) -> [UInt8]? {
        handleBatch([bytes])[0]
    }

    /// Decodes, answers and encodes waiting requests, one reply for each (`nil` for bytes that are
    /// not a request at all).
    ///
    /// Several requests run in one transaction, each in its own savepoint, and commit together:
    /// one durable commit for the batch (group commit). No reply is given before that commit; if it
    /// fails, every request of the batch is answered `UNAVAILABLE` and nothing of it was stored, so
    /// the transaction tier's retry runs it again.
    public func handleBatch(_ batch: [[UInt8]]) -> [[UInt8]?] {
        var requests: [WireRequest?] = []
        for bytes in batch {
            do {
                requests.append(try WireProtocol.decode(WireRequest.self, from: bytes))
            } catch {
                logger.warning("dropped an undecodable tier request", metadata: ["coffer.bytes": "\(bytes.count)"])
                requests.append(nil)
            }
        }
        let valid = requests.compactMap { $0 }
        guard !valid.isEmpty else { return requests.map { _ in nil } }
        let started = ContinuousClock.now
        let appendsBefore = store?.auditAppends
        defer { DatabaseMetrics.batch(size: valid.count, elapsed: ContinuousClock.now - started) }
        let answered: [[UInt8]]
        var committed: RecordStore?
        do {
            let store = try currentStore()
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            try forgetOldReplies(store, now: now)
            if valid.count == 1 {
                answered = [try respondOrFail(valid[0], store, now: now)]
            } else {
                let changes = valid.contains { $0.body.map { WireOperation.of($0).changesState } ?? false }
                answered = try store.transaction(holdingAuditLock: changes) {
                    try valid.map { try respondOrFail($0, store, now: now, inBatch: true) }
                }
            }
            committed = store
        } catch {
            store?.keepUnnamedBlobs()
            answered = valid.map { request in
                let answer = failure(request, error)
                if let body = request.body { DatabaseMetrics.answered(WireOperation.of(body).name, outcome: DatabaseMetrics.outcome(of: answer)) }
                return (try? WireProtocol.encode(answer)) ?? []
            }
        }
        if let committed {
            DatabaseMetrics.auditLog(appended: committed.auditAppends - (appendsBefore ?? committed.auditAppends), size: committed.knownAuditLogSize)
        }
        // The bytes of central copies the batch stopped naming go only now that it committed.
        do {
            try committed?.removeUnnamedBlobs()
        } catch {
            logger.warning("could not remove a central copy's bytes that no record names any more", metadata: ["coffer.error": "\(error)"])
        }
        var replies = answered.makeIterator()
        return requests.map { request in request == nil ? nil : replies.next() }
    }

    /// One request's reply: its answer, or the error answer for a failure that touched only this
    /// request. A lost connection is rethrown, since it ends the whole batch.
    private func respondOrFail(_ request: WireRequest, _ store: RecordStore, now: Int64, inBatch: Bool = false) throws -> [UInt8] {
        do {
            return try respond(request, store: store, now: now, inBatch: inBatch)
        } catch let error as StorageError where error.code == .connection && inBatch {
            throw error
        } catch {
            let answer = failure(request, error)
            if let body = request.body { DatabaseMetrics.answered(WireOperation.of(body).name, outcome: DatabaseMetrics.outcome(of: answer)) }
            return try WireProtocol.encode(answer)
        }
    }

    /// Answers one decoded request, encoded. A request that changes anything runs at most once per
    /// request id: a retry gets the reply stored with the first run's effect.
    ///
    /// In a batch, a request that changes nothing runs in a savepoint of its own too, so that its
    /// failure cannot abort the batch's transaction.
    func respond(_ request: WireRequest, store: RecordStore, now: Int64, inBatch: Bool = false) throws -> [UInt8] {
        guard request.protocolVersion == WireProtocol.version else {
            return try WireProtocol.encode(WireProtocol.error(to: request, .unsupportedVersion, "tier protocol version \(request.protocolVersion) is not supported; this database tier speaks \(WireProtocol.version)"))
        }
        guard request.requestID.count == WireProtocol.requestIDSize, let body = request.body else {
            return try WireProtocol.encode(WireProtocol.error(to: request, .badRequest, "a request needs a 16-byte request id and a body"))
        }
        let operation = OperationDispatch.operation(for: body)
        let context = OperationContext(store: store, logger: logger, nowMs: now)
        let run = {
            let answer = try self.guarded(request, store) ?? operation.answer(request, context)
            DatabaseMetrics.answered(operation.kind.name, outcome: DatabaseMetrics.outcome(of: answer))
            return try WireProtocol.encode(answer)
        }
        guard operation.kind.storesReply else {
            return inBatch ? try store.transaction(run) : try run()
        }
        if Self.replayGuardIsWellFormed(request), let reply = try operation.answerInOneCall(request, OneCallContext(
            store: store, nonce: Self.nonce(of: request), nowMs: now, nonceRetentionMs: Self.nonceRetentionMs
        )) {
            DatabaseMetrics.answered(operation.kind.name, outcome: "ok")
            return reply
        }
        let (reply, repeated) = try store.once(requestID: Array(request.requestID), recordID: operation.carriedRecord, nowMs: now, run)
        if repeated {
            DatabaseMetrics.answered(operation.kind.name, outcome: "stored_reply")
            logger.info("answered a retried request from its stored reply", metadata: ["coffer.request_id": "\(AuditLeaf.hex(Array(request.requestID)))"])
        }
        return reply
    }

    /// The replay guard of `request` for an answer in one call, or `nil` when it has none.
    private static func nonce(of request: WireRequest) -> RecordStore.OneCallSave.Nonce? {
        guard request.hasReplayGuard else { return nil }
        let g = request.replayGuard
        return RecordStore.OneCallSave.Nonce(clientID: g.clientID, nonce: Array(g.nonce), timeMs: g.timeUnixMs,
                                             session: g.user.isEmpty ? nil : (user: g.user, issuedMs: g.sessionIssuedUnixMs))
    }

    /// Whether `request` has no replay guard or one of the right shape (a client id and a nonce of
    /// at least 16 bytes); ``guarded(_:_:)`` refuses a malformed one, on the general path.
    private static func replayGuardIsWellFormed(_ request: WireRequest) -> Bool {
        !request.hasReplayGuard || (!request.replayGuard.clientID.isEmpty && request.replayGuard.nonce.count >= 16)
    }

    /// The refusal of a request whose replay guard does not hold, or `nil` once its nonce is taken.
    private func guarded(_ request: WireRequest, _ store: RecordStore) throws -> WireResponse? {
        guard request.hasReplayGuard else { return nil }
        let guardInfo = request.replayGuard
        guard Self.replayGuardIsWellFormed(request) else {
            return WireProtocol.error(to: request, .badRequest, "a replay guard needs a client id and a 16-byte nonce")
        }
        let session = guardInfo.user.isEmpty ? nil : (user: guardInfo.user, issuedMs: guardInfo.sessionIssuedUnixMs)
        guard try store.consumeNonce(clientID: guardInfo.clientID, nonce: Array(guardInfo.nonce), timeMs: guardInfo.timeUnixMs,
                                     retentionMs: Self.nonceRetentionMs, requestID: Array(request.requestID), session: session) else {
            logger.warning("refused a replayed request", metadata: ["coffer.client_id": "\(guardInfo.clientID)"])
            return WireProtocol.error(to: request, .replayed, "this request was already received; it is a replay")
        }
        return nil
    }

    /// The error answer for a request that failed.
    private func failure(_ request: WireRequest, _ error: any Error) -> WireResponse {
        switch error {
        case let error as StorageError where error.code == .audit:
            logger.critical("an audit entry could not be written; the change was not made", metadata: ["coffer.error": "\(error.message)"])
            return WireProtocol.error(to: request, .auditFailed, "the audit history could not be written, so nothing was changed")
        case let error as StorageError where error.code == .locked:
            return Answers.refusal(request, .accountLocked)
        case let error as StorageError where error.code == .sessionEnded:
            return WireProtocol.error(to: request, .sessionEnded, RecordStore.sessionEndedReason)
        case let error as StorageError where error.code == .contended:
            logger.warning("the store was busy; the transaction tier will retry", metadata: ["coffer.error": "\(error.message)"])
            return WireProtocol.error(to: request, .unavailable, "the database is busy; retry")
        case let error as StorageError where error.code == .connection:
            self.store = nil
            logger.error("lost the store connection", metadata: ["coffer.error": "\(error.message)"])
            return WireProtocol.error(to: request, .unavailable, "the database is unavailable")
        default:
            logger.error("request failed", metadata: ["coffer.error": "\(error)"])
            return WireProtocol.error(to: request, .internal, "the database tier could not complete the request")
        }
    }

    /// Stored replies and nonces are kept for `nonceRetentionMs`, far beyond any retry budget and
    /// twice the clock skew the transaction tier accepts; older ones are swept once a minute, and
    /// blobs that no record names (``RecordStore/sweepUnnamedBlobs(publishedAtLeast:)``) at the first
    /// request and then once an hour.
    private func forgetOldReplies(_ store: RecordStore, now: Int64) throws {
        guard now - lastForget > 60_000 else { return }
        lastForget = now
        try store.forgetReplies(olderThanMs: now - Self.nonceRetentionMs)
        try store.forgetNonces(olderThanMs: now - Self.nonceRetentionMs)
        try store.forgetStoppedUploads(nowMs: now)
        guard now - lastSweep > 3_600_000 else { return }
        lastSweep = now
        do {
            let swept = try store.sweepUnnamedBlobs()
            if swept > 0 { logger.notice("removed central-copy bytes that no record names", metadata: ["coffer.blobs": "\(swept)"]) }
        } catch {
            // A sweep that fails costs disk space only; the requests go on.
            logger.warning("could not sweep central-copy bytes that no record names", metadata: ["coffer.error": "\(error)"])
        }
    }

    private func currentStore() throws -> RecordStore {
        if let store { return store }
        let opened = try openStore()
        store = opened
        DatabaseMetrics.reconnected()
        logger.info("reconnected to the store")
        return opened
    }
}
