import CofferAudit
public import CofferStorage
public import CofferWire
import Foundation
public import Logging

/// Answers tier-protocol requests from the store. Runs on the database tier's server thread.
///
/// Owns the store connection and reopens it after the connection is lost.
public final class DatabaseRequestHandler {
    private let openStore: () throws -> RecordStore
    private var store: RecordStore?
    private let logger: Logger
    private var lastForget: Int64 = 0
    /// The most history entries one answer carries.
    static let maxHistory = 1_000
    /// How long request nonces are remembered; the transaction tier refuses requests older than half of this.
    static let nonceRetentionMs: Int64 = 10 * 60 * 1000

    /// Creates a handler that opens its store with `openStore` (now and after a lost connection).
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
        let answered: [[UInt8]]
        do {
            let store = try currentStore()
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            try forgetOldReplies(store, now: now)
            if valid.count == 1 {
                answered = [try respondOrFail(valid[0], store, now: now)]
            } else {
                let changes = valid.contains { $0.body.flatMap(Self.changes) != nil }
                answered = try store.transaction(holdingAuditLock: changes) {
                    try valid.map { try respondOrFail($0, store, now: now, inBatch: true) }
                }
            }
        } catch {
            answered = valid.map { (try? WireProtocol.encode(failure($0, error))) ?? [] }
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
            return try WireProtocol.encode(failure(request, error))
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
        guard let carried = Self.changes(body) else {
            if inBatch { return try store.transaction { try WireProtocol.encode(try answer(request, body, store)) } }
            return try WireProtocol.encode(try answer(request, body, store))
        }
        let (reply, repeated) = try store.once(requestID: Array(request.requestID), recordID: carried.recordID, nowMs: now) {
            try WireProtocol.encode(try answer(request, body, store))
        }
        if repeated {
            logger.info("answered a retried request from its stored reply", metadata: ["coffer.request_id": "\(AuditLeaf.hex(Array(request.requestID)))"])
        }
        return reply
    }

    /// The error answer for a request that failed.
    private func failure(_ request: WireRequest, _ error: any Error) -> WireResponse {
        switch error {
        case let error as StorageError where error.code == .audit:
            logger.critical("an audit entry could not be written; the change was not made", metadata: ["coffer.error": "\(error.message)"])
            return WireProtocol.error(to: request, .auditFailed, "the audit history could not be written, so nothing was changed")
        case let error as StorageError where error.code == .locked:
            return Self.refusal(to: request, RecordStore.accountLockedReason)
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

    /// A request that changes something: it runs once per request id.
    struct Change {
        /// The record whose key the reply may carry.
        var recordID: [UInt8]?
    }

    /// Whether a request changes anything, and which record's key its reply may carry.
    static func changes(_ body: WireRequest.OneOf_Body) -> Change? {
        switch body {
        case .releaseKey(let m): Change(recordID: Array(m.recordID))
        case .registerUser, .recordLogin, .createRecord, .stageReseal, .confirmReseal, .deleteRecord, .storeCheckpoint, .appendAudit, .setUserLock, .endSessions, .setPassword: Change()
        case .ping, .getCredentials, .listHistory, .listRecords, .getAuditProofs, .listAuditEntries, .listCheckpoints, .listUsers: nil
        }
    }

    /// Stored replies and nonces are kept for `nonceRetentionMs`, far beyond any retry budget and
    /// twice the clock skew the transaction tier accepts; older ones are swept once a minute.
    private func forgetOldReplies(_ store: RecordStore, now: Int64) throws {
        guard now - lastForget > 60_000 else { return }
        lastForget = now
        try store.forgetReplies(olderThanMs: now - Self.nonceRetentionMs)
        try store.forgetNonces(olderThanMs: now - Self.nonceRetentionMs)
    }

    private func currentStore() throws -> RecordStore {
        if let store { return store }
        let opened = try openStore()
        store = opened
        logger.info("reconnected to the store")
        return opened
    }

    private func answer(_ request: WireRequest, _ body: WireRequest.OneOf_Body, _ store: RecordStore) throws -> WireResponse {
        if request.hasReplayGuard {
            let guardInfo = request.replayGuard
            guard !guardInfo.clientID.isEmpty, guardInfo.nonce.count >= 16 else {
                return WireProtocol.error(to: request, .badRequest, "a replay guard needs a client id and a 16-byte nonce")
            }
            let session = guardInfo.user.isEmpty ? nil : (user: guardInfo.user, issuedMs: guardInfo.sessionIssuedUnixMs)
            guard try store.consumeNonce(clientID: guardInfo.clientID, nonce: Array(guardInfo.nonce), timeMs: guardInfo.timeUnixMs,
                                         retentionMs: Self.nonceRetentionMs, requestID: Array(request.requestID), session: session) else {
                logger.warning("refused a replayed request", metadata: ["coffer.client_id": "\(guardInfo.clientID)"])
                return WireProtocol.error(to: request, .replayed, "this request was already received; it is a replay")
            }
        }
        switch body {
        case .ping:
            var pong = Coffer_Wire_V1_Pong()
            pong.store = store.storeName
            pong.schemaVersion = UInt32(store.schemaVersion)
            return WireProtocol.response(to: request, .pong(pong))

        case .registerUser(let m):
            guard !m.user.isEmpty, !m.passwordHash.isEmpty else {
                return WireProtocol.error(to: request, .badRequest, "user and password hash are required")
            }
            let device = m.hasDevice ? DeviceIdentity(clientID: m.device.clientID, publicKey: Array(m.device.publicKey)) : nil
            guard try store.registerUser(name: m.user, passwordHash: m.passwordHash, timeMs: m.timeUnixMs, source: m.source, device: device) else {
                return WireProtocol.error(to: request, .conflict, "the user name is taken")
            }
            return WireProtocol.response(to: request, .ack(.init()))

        case .getCredentials(let m):
            guard let found = try store.credentials(user: m.user) else {
                return WireProtocol.error(to: request, .notFound, "no such user")
            }
            var credentials = Coffer_Wire_V1_Credentials()
            credentials.user = m.user
            credentials.passwordHash = found.passwordHash
            credentials.locked = found.locked
            credentials.lockedUntilUnixMs = found.lockedUntilMs
            return WireProtocol.response(to: request, .credentials(credentials))

        case .recordLogin(let m):
            let device = m.hasDevice ? DeviceIdentity(clientID: m.device.clientID, publicKey: Array(m.device.publicKey)) : nil
            let outcome = try store.recordLogin(
                user: m.user, success: m.success, reason: m.reason, timeMs: m.timeUnixMs, source: m.source, device: device,
                maxFailures: m.maxFailures == 0 ? 5 : Int(m.maxFailures), lockMs: m.lockMs == 0 ? 15 * 60 * 1000 : m.lockMs
            )
            switch outcome {
            case .recorded(let index, _):
                var ack = Coffer_Wire_V1_Ack()
                ack.auditIndex = index
                return WireProtocol.response(to: request, .ack(ack))
            case .deviceConflict:
                return WireProtocol.error(to: request, .forbidden, "this client id is enrolled with a different device key")
            }

        case .createRecord(let m):
            guard m.recordID.count == 16, m.sha256.count == 32, !m.wrappedDecodeKey.isEmpty, !m.owner.isEmpty,
                  m.clientRequestID.isEmpty || (m.clientRequestID.count == 16 && m.encodeKey.count == 65)
            else {
                return WireProtocol.error(to: request, .badRequest, "a record needs a 16-byte id, a SHA-256, an owner and a wrapped key, and a client request id 16 bytes with a 65-byte encode key")
            }
            let clientRequestID = m.clientRequestID.isEmpty ? nil : Array(m.clientRequestID)
            if let clientRequestID, let earlier = try store.earlierSave(owner: m.owner, clientRequestID: clientRequestID) {
                return Self.earlierSave(request, earlier, m)
            }
            let record = StoredRecord(
                id: Array(m.recordID), owner: m.owner, fileName: m.fileName, sha256: Array(m.sha256), size: m.size,
                createdAtMs: m.timeUnixMs, encodeKeyID: Array(m.encodeKeyID), wrappedDecodeKey: Array(m.wrappedDecodeKey),
                receipt: Array(m.receipt), receiptSignature: Array(m.receiptSignature),
                clientRequestID: clientRequestID, encodeKey: clientRequestID == nil ? nil : Array(m.encodeKey)
            )
            guard let index = try store.createRecord(record, source: m.source, clientID: m.clientID) else {
                // Another database process may have stored the same save a moment ago.
                if let clientRequestID, let earlier = try store.earlierSave(owner: m.owner, clientRequestID: clientRequestID) {
                    return Self.earlierSave(request, earlier, m)
                }
                return WireProtocol.error(to: request, .conflict, "the record id is taken or the owner does not exist")
            }
            var ack = Coffer_Wire_V1_Ack()
            ack.auditIndex = index
            return WireProtocol.response(to: request, .ack(ack))

        case .releaseKey(let m):
            guard m.recordID.count == 16, !m.owner.isEmpty else {
                return WireProtocol.error(to: request, .badRequest, "a key release needs a 16-byte record id and an owner")
            }
            let outcome = try store.releaseKey(
                recordID: Array(m.recordID), owner: m.owner, fileName: m.fileName,
                receiptSignature: Array(m.receiptSignature), timeMs: m.timeUnixMs, source: m.source, clientID: m.clientID
            )
            switch outcome {
            case .released(let key):
                var released = Coffer_Wire_V1_KeyReleased()
                released.wrappedDecodeKey = Data(key.wrappedDecodeKey)
                released.auditIndex = key.auditIndex
                released.encodeKeyID = Data(key.encodeKeyID)
                released.sha256 = Data(key.sha256)
                released.size = key.size
                return WireProtocol.response(to: request, .keyReleased(released))
            case .notFound:
                return WireProtocol.error(to: request, .notFound, "no such record")
            case .refused(let reason):
                return Self.refusal(to: request, reason)
            }

        case .stageReseal(let m):
            guard m.recordID.count == 16, !m.wrappedDecodeKey.isEmpty, !m.receiptSignature.isEmpty else {
                return WireProtocol.error(to: request, .badRequest, "a re-seal needs a record id, a wrapped key and a receipt")
            }
            guard try store.stageReseal(recordID: Array(m.recordID), owner: m.owner, wrappedDecodeKey: Array(m.wrappedDecodeKey),
                                        encodeKeyID: Array(m.encodeKeyID), receipt: Array(m.receipt), receiptSignature: Array(m.receiptSignature))
            else {
                return WireProtocol.error(to: request, .notFound, "no such record")
            }
            return WireProtocol.response(to: request, .ack(.init()))

        case .confirmReseal(let m):
            return change(request, try store.confirmReseal(recordID: Array(m.recordID), owner: m.owner, receiptSignature: Array(m.receiptSignature),
                                                           timeMs: m.timeUnixMs, source: m.source, clientID: m.clientID))

        case .deleteRecord(let m):
            return change(request, try store.deleteRecord(recordID: Array(m.recordID), owner: m.owner, receiptSignature: Array(m.receiptSignature),
                                                          timeMs: m.timeUnixMs, source: m.source, clientID: m.clientID))

        case .listRecords(let m):
            if let locked = try lockedRefusal(request, owner: m.owner, store) { return locked }
            var records = Coffer_Wire_V1_Records()
            records.records = try store.listRecords(owner: m.owner, limit: Self.maxHistory).map { r in
                var summary = Coffer_Wire_V1_RecordSummary()
                summary.recordID = Data(r.id)
                summary.fileName = r.fileName
                summary.sha256 = Data(r.sha256)
                summary.size = r.size
                summary.createdUnixMs = r.createdAtMs
                summary.resealedUnixMs = r.resealedAtMs
                summary.deleted = r.deleted
                return summary
            }
            return WireProtocol.response(to: request, .records(records))

        case .listHistory(let m):
            if let locked = try lockedRefusal(request, owner: m.owner, store) { return locked }
            let limit = m.limit == 0 ? Self.maxHistory : min(Int(m.limit), Self.maxHistory)
            let recordID = m.recordID.isEmpty ? nil : Array(m.recordID)
            guard let entries = try store.history(owner: m.owner, recordID: recordID, limit: limit) else {
                return WireProtocol.error(to: request, .notFound, "no such record")
            }
            var history = Coffer_Wire_V1_History()
            history.events = entries.map(Self.event)
            return WireProtocol.response(to: request, .history(history))

        case .getAuditProofs(let m):
            if !m.owner.isEmpty, let locked = try lockedRefusal(request, owner: m.owner, store) { return locked }
            return try answerAuditProofs(request, m, store)

        case .storeCheckpoint(let m):
            let checkpoint = m.checkpoint
            guard checkpoint.treeSize > 0, checkpoint.rootHash.count == 32, !checkpoint.note.isEmpty, checkpoint.note.utf8.count <= 16 * 1024 else {
                return WireProtocol.error(to: request, .badRequest, "a checkpoint needs a tree size, a 32-byte root and a note")
            }
            switch try store.storeCheckpoint(treeSize: checkpoint.treeSize, rootHash: Array(checkpoint.rootHash), note: checkpoint.note, timeMs: m.timeUnixMs) {
            case .stored, .alreadyStored:
                return WireProtocol.response(to: request, .ack(.init()))
            case .mismatch:
                logger.critical("refused a checkpoint whose root is not the log's root", metadata: ["coffer.tree_size": "\(checkpoint.treeSize)"])
                return WireProtocol.error(to: request, .conflict, "the checkpoint's root is not the log's root at its size")
            }

        case .listAuditEntries(let m):
            var entries = Coffer_Wire_V1_AuditEntries()
            entries.events = try store.auditEntries(from: max(0, m.fromIndex), limit: m.limit == 0 ? RecordStore.maxAuditBatch : Int(m.limit)).map(Self.event)
            entries.treeSize = try store.auditTreeHead().size
            return WireProtocol.response(to: request, .auditEntries(entries))

        case .listCheckpoints(let m):
            var list = Coffer_Wire_V1_Checkpoints()
            list.checkpoints = try store.checkpoints(after: m.afterSize, limit: m.limit == 0 ? RecordStore.maxAuditBatch : Int(m.limit)).map(Self.wireCheckpoint)
            return WireProtocol.response(to: request, .checkpoints(list))

        case .setUserLock(let m):
            return try answerSetUserLock(request, m, store)

        case .listUsers(let m):
            return try answerListUsers(request, m, store)

        case .endSessions(let m):
            return try answerEndSessions(request, m, store)

        case .setPassword(let m):
            return try answerSetPassword(request, m, store)

        case .appendAudit(let m):
            guard m.kind == AuditKind.admin.rawValue || m.kind == AuditKind.rateLimited.rawValue, !m.user.isEmpty,
                  m.detail.utf8.count <= 1024, m.user.utf8.count <= 256, m.source.utf8.count <= 256
            else {
                return WireProtocol.error(to: request, .badRequest, "only `admin` and `rate_limited` entries may be appended directly, with short fields")
            }
            var ack = Coffer_Wire_V1_Ack()
            ack.auditIndex = try store.audit(AuditEvent(kind: m.kind, user: m.user, timeMs: m.timeUnixMs, detail: m.detail, source: m.source))
            return WireProtocol.response(to: request, .ack(ack))
        }
    }

    /// An operator's lock or unlock of an account.
    private func answerSetUserLock(_ request: WireRequest, _ m: Coffer_Wire_V1_SetUserLock, _ store: RecordStore) throws -> WireResponse {
        guard !m.user.isEmpty, m.user.utf8.count <= 256, m.reason.utf8.count <= 512, m.operator.utf8.count <= 256 else {
            return WireProtocol.error(to: request, .badRequest, "a lock needs a user name, and short reason and operator fields")
        }
        let index = try store.setLocked(user: m.user, locked: m.locked, reason: m.reason, operatorName: m.operator, timeMs: m.timeUnixMs)
        return Self.audited(request, index, missing: "no such user")
    }

    /// A logout: ends the sessions of one device of a user, or of all of them.
    private func answerEndSessions(_ request: WireRequest, _ m: Coffer_Wire_V1_EndSessions, _ store: RecordStore) throws -> WireResponse {
        guard !m.user.isEmpty, m.user.utf8.count <= 256, !m.clientID.isEmpty, m.clientID.utf8.count <= 256, m.source.utf8.count <= 256,
              m.timeUnixMs > 0
        else {
            return WireProtocol.error(to: request, .badRequest, "a logout needs a user, a client id and a time, and short fields")
        }
        let index = try store.endSessions(user: m.user, clientID: m.clientID, allDevices: m.allDevices, timeMs: m.timeUnixMs, source: m.source)
        return Self.audited(request, index, missing: "no such device")
    }

    /// A password change the transaction tier checked: the new hash, and the other devices' sessions ended.
    private func answerSetPassword(_ request: WireRequest, _ m: Coffer_Wire_V1_SetPassword, _ store: RecordStore) throws -> WireResponse {
        guard !m.user.isEmpty, m.user.utf8.count <= 256, !m.passwordHash.isEmpty, m.passwordHash.utf8.count <= 1024,
              !m.clientID.isEmpty, m.clientID.utf8.count <= 256, m.source.utf8.count <= 256, m.timeUnixMs > 0
        else {
            return WireProtocol.error(to: request, .badRequest, "a password change needs a user, a hash, a client id and a time, and short fields")
        }
        let index = try store.changePassword(user: m.user, passwordHash: m.passwordHash, clientID: m.clientID, timeMs: m.timeUnixMs, source: m.source)
        return Self.audited(request, index, missing: "no such user")
    }

    /// The answer to a save sent again: the record the first one made, if it was the same file.
    private static func earlierSave(_ request: WireRequest, _ earlier: RecordStore.EarlierSave, _ m: Coffer_Wire_V1_CreateRecord) -> WireResponse {
        guard earlier.fileName == m.fileName, earlier.sha256 == Array(m.sha256), earlier.size == m.size else {
            return WireProtocol.error(to: request, .conflict, "this save's request id was used for another file")
        }
        guard !earlier.deleted else {
            return WireProtocol.error(to: request, .conflict, "the record this save made was deleted since")
        }
        var created = Coffer_Wire_V1_RecordCreated()
        created.auditIndex = earlier.auditIndex
        created.recordID = Data(earlier.recordID)
        created.receipt = Data(earlier.receipt)
        created.encodeKey = Data(earlier.encodeKey)
        created.encodeKeyID = Data(earlier.encodeKeyID)
        return WireProtocol.response(to: request, .recordCreated(created))
    }

    /// An Ack carrying the audit index of what was done, or NOT_FOUND saying what was missing.
    private static func audited(_ request: WireRequest, _ index: Int64?, missing: String) -> WireResponse {
        guard let index else { return WireProtocol.error(to: request, .notFound, missing) }
        var ack = Coffer_Wire_V1_Ack()
        ack.auditIndex = index
        return WireProtocol.response(to: request, .ack(ack))
    }

    /// The accounts, for an operator.
    private func answerListUsers(_ request: WireRequest, _ m: Coffer_Wire_V1_ListUsers, _ store: RecordStore) throws -> WireResponse {
        var users = Coffer_Wire_V1_Users()
        users.users = try store.listUsers(after: m.after, limit: m.limit <= 0 ? Self.maxHistory : min(Int(m.limit), Self.maxHistory)).map { u in
            var summary = Coffer_Wire_V1_UserSummary()
            summary.name = u.name
            summary.createdUnixMs = u.createdAtMs
            summary.locked = u.locked
            summary.lockedUntilUnixMs = u.lockedUntilMs
            summary.failedLogins = u.failedLogins
            summary.records = u.records
            summary.devices = u.devices
            return summary
        }
        return WireProtocol.response(to: request, .users(users))
    }

    private func answerAuditProofs(_ request: WireRequest, _ m: Coffer_Wire_V1_GetAuditProofs, _ store: RecordStore) throws -> WireResponse {
        do {
            guard let proofs = try store.auditProofs(
                treeSize: m.treeSize == 0 ? nil : m.treeSize, fromSizes: m.fromSizes, indexes: m.indexes, owner: m.owner.isEmpty ? nil : m.owner
            ) else {
                return WireProtocol.error(to: request, .notFound, "a size is beyond the log, or an entry is not the requester's")
            }
            var answer = Coffer_Wire_V1_AuditProofs()
            answer.treeSize = proofs.treeSize
            answer.rootHash = Data(proofs.rootHash)
            if let latest = proofs.latestCheckpoint { answer.latestCheckpoint = Self.wireCheckpoint(latest) }
            answer.consistency = proofs.consistency.sorted { $0.key < $1.key }.map { from, hashes in
                var proof = Coffer_Wire_V1_ConsistencyProof()
                proof.fromSize = from
                proof.hashes = hashes.map { Data($0) }
                return proof
            }
            answer.inclusion = proofs.inclusion.map { item in
                var proof = Coffer_Wire_V1_InclusionProof()
                proof.index = item.index
                proof.leaf = Data(item.leaf)
                proof.hashes = item.proof.map { Data($0) }
                return proof
            }
            return WireProtocol.response(to: request, .auditProofs(answer))
        } catch let error as MerkleError {
            // A missing subtree hash means the stored tree is damaged: say so, loudly.
            logger.critical("cannot compute audit proofs", metadata: ["coffer.error": "\(error)"])
            return WireProtocol.error(to: request, .internal, "the audit tree is damaged: \(error)")
        }
    }

    private static func wireCheckpoint(_ checkpoint: StoredCheckpoint) -> Coffer_Wire_V1_SignedCheckpoint {
        var wire = Coffer_Wire_V1_SignedCheckpoint()
        wire.treeSize = checkpoint.treeSize
        wire.rootHash = Data(checkpoint.rootHash)
        wire.note = checkpoint.note
        return wire
    }

    private static func event(_ entry: AuditEntry) -> Coffer_Wire_V1_AuditEvent {
        var event = Coffer_Wire_V1_AuditEvent()
        event.index = entry.index
        event.timeUnixMs = entry.timeMs
        event.kind = entry.kind
        event.user = entry.user
        event.recordID = Data(entry.recordID ?? [])
        event.fileName = entry.fileName ?? ""
        event.detail = entry.detail
        event.source = entry.source
        event.clientID = entry.clientID
        event.leaf = Data(entry.leaf)
        return event
    }

    private func change(_ request: WireRequest, _ outcome: RecordChange) -> WireResponse {
        switch outcome {
        case .done, .alreadyDone: WireProtocol.response(to: request, .ack(.init()))
        case .notFound: WireProtocol.error(to: request, .notFound, "no such record")
        case .refused(let reason): Self.refusal(to: request, reason)
        }
    }

    /// FORBIDDEN with the store's reason, or ACCOUNT_LOCKED when the reason is an operator's lock.
    private static func refusal(to request: WireRequest, _ reason: String) -> WireResponse {
        WireProtocol.error(to: request, reason == RecordStore.accountLockedReason ? .accountLocked : .forbidden, reason)
    }

    /// ACCOUNT_LOCKED when an operator locked `owner`, for the reads that check nothing else of theirs.
    private func lockedRefusal(_ request: WireRequest, owner: String, _ store: RecordStore) throws -> WireResponse? {
        try store.isLocked(user: owner) ? Self.refusal(to: request, RecordStore.accountLockedReason) : nil
    }
}
