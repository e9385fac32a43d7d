import CofferAPI
import CofferAudit
import CofferWire
import Foundation
import Crypto

/// Every tier-protocol message the transaction tier sends, each built in one place from the values
/// it carries (docs/PROTOCOL.md, "Transaction tier ↔ database tier").
enum WireMessages {
    /// A request's proof of freshness, naming the session it was made under.
    static func replayGuard(session: Session, nonce: [UInt8], timeMs: Int64) -> Coffer_Wire_V1_ReplayGuard {
        var replayGuard = Coffer_Wire_V1_ReplayGuard()
        replayGuard.clientID = session.clientID
        replayGuard.nonce = Data(nonce)
        replayGuard.timeUnixMs = timeMs
        replayGuard.user = session.user
        replayGuard.sessionIssuedUnixMs = session.issuedAtMs
        return replayGuard
    }

    /// A client installation: its id and public key.
    static func device(clientID: String, publicKey: Data) -> Coffer_Wire_V1_Device {
        var device = Coffer_Wire_V1_Device()
        device.clientID = clientID
        device.publicKey = publicKey
        return device
    }

    static func registerUser(_ user: String, passwordHash: String, device: Coffer_Wire_V1_Device, source: String, timeMs: Int64) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_RegisterUser()
        message.user = user
        message.passwordHash = passwordHash
        message.source = source
        message.timeUnixMs = timeMs
        message.device = device
        return .registerUser(message)
    }

    static func getCredentials(_ user: String) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_GetCredentials()
        message.user = user
        return .getCredentials(message)
    }

    /// The audit of a password check, with the lockout policy the database tier applies to failures.
    static func recordLogin(_ user: String, success: Bool, reason: String, device: Coffer_Wire_V1_Device, source: String, timeMs: Int64,
                            lockout: Lockout) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_RecordLogin()
        message.user = user
        message.success = success
        message.reason = reason
        message.source = source
        message.timeUnixMs = timeMs
        message.device = device
        message.maxFailures = UInt32(lockout.attempts)
        message.lockMs = Int64(lockout.duration.components.seconds * 1000)
        return .recordLogin(message)
    }

    static func setPassword(_ session: Session, passwordHash: String, source: String, timeMs: Int64) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_SetPassword()
        message.user = session.user
        message.passwordHash = passwordHash
        message.clientID = session.clientID
        message.source = source
        message.timeUnixMs = timeMs
        return .setPassword(message)
    }

    static func endSessions(_ session: Session, allDevices: Bool, source: String, timeMs: Int64) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_EndSessions()
        message.user = session.user
        message.clientID = session.clientID
        message.allDevices = allDevices
        message.source = source
        message.timeUnixMs = timeMs
        return .endSessions(message)
    }

    /// A new record: its first key generation, receipt and the save's audit entry.
    static func createRecord(_ generation: KeyGeneration, sha256: [UInt8], session: Session, source: String,
                             clientRequestID: [UInt8]?) throws -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_CreateRecord()
        message.recordID = Data(generation.recordID)
        message.owner = session.user
        message.fileName = generation.receipt.fileName
        message.sha256 = Data(sha256)
        message.size = generation.receipt.size
        message.timeUnixMs = generation.receipt.time
        message.encodeKeyID = Data(generation.encodeKeyID)
        message.wrappedDecodeKey = Data(generation.wrappedDecodeKey)
        message.receipt = Data(try generation.receipt.encoded())
        message.receiptSignature = Data(generation.token)
        message.source = source
        message.clientID = session.clientID
        if let clientRequestID {
            message.clientRequestID = Data(clientRequestID)
            message.encodeKey = generation.keys.encodeKey.x963Representation
        }
        return .createRecord(message)
    }

    /// A key release; with `next`, the record's next key generation to stage with it.
    static func releaseKey(
        _ recordID: [UInt8], fileName: String, token: Data, session: Session, source: String, timeMs: Int64,
        next: KeyGeneration? = nil
    ) throws -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_ReleaseKey()
        if let next {
            var staged = Coffer_Wire_V1_KeyGeneration()
            staged.wrappedDecodeKey = Data(next.wrappedDecodeKey)
            staged.encodeKeyID = Data(next.encodeKeyID)
            staged.receipt = Data(try next.receipt.encoded())
            staged.receiptSignature = Data(next.token)
            staged.sha256 = Data(Hex.decode(next.receipt.sha256) ?? [])
            staged.size = next.receipt.size
            message.next = staged
        }
        message.recordID = Data(recordID)
        message.owner = session.user
        message.fileName = fileName
        message.receiptSignature = token
        message.source = source
        message.timeUnixMs = timeMs
        message.clientID = session.clientID
        return .releaseKey(message)
    }

    /// A record's next key generation, waiting until the client confirms the re-sealed container.
    static func stageReseal(_ generation: KeyGeneration, owner: String) throws -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_StageReseal()
        message.recordID = Data(generation.recordID)
        message.owner = owner
        message.wrappedDecodeKey = Data(generation.wrappedDecodeKey)
        message.encodeKeyID = Data(generation.encodeKeyID)
        message.receipt = Data(try generation.receipt.encoded())
        message.receiptSignature = Data(generation.token)
        return .stageReseal(message)
    }

    static func confirmReseal(_ recordID: [UInt8], token: Data, session: Session, source: String, timeMs: Int64) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_ConfirmReseal()
        message.recordID = Data(recordID)
        message.owner = session.user
        message.receiptSignature = token
        message.source = source
        message.timeUnixMs = timeMs
        message.clientID = session.clientID
        return .confirmReseal(message)
    }

    static func deleteRecord(_ recordID: [UInt8], token: Data, session: Session, source: String, timeMs: Int64) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_DeleteRecord()
        message.recordID = Data(recordID)
        message.owner = session.user
        message.receiptSignature = token
        message.source = source
        message.timeUnixMs = timeMs
        message.clientID = session.clientID
        return .deleteRecord(message)
    }

    static func listRecords(owner: String) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_ListRecords()
        message.owner = owner
        return .listRecords(message)
    }

    static func listHistory(owner: String, recordID: [UInt8]?) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_ListHistory()
        message.owner = owner
        if let recordID { message.recordID = Data(recordID) }
        return .listHistory(message)
    }

    /// Proofs for an owner's entries (or, with no owner, the tree head and consistency proofs).
    static func getAuditProofs(owner: String, treeSize: Int64, indexes: [Int64], fromSizes: [Int64]) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_GetAuditProofs()
        message.owner = owner
        message.treeSize = treeSize
        message.indexes = indexes
        message.fromSizes = fromSizes
        return .getAuditProofs(message)
    }

    static func storeCheckpoint(treeSize: Int64, rootHash: [UInt8], note: String, timeMs: Int64) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_StoreCheckpoint()
        message.checkpoint.treeSize = treeSize
        message.checkpoint.rootHash = Data(rootHash)
        message.checkpoint.note = note
        message.timeUnixMs = timeMs
        return .storeCheckpoint(message)
    }

    /// An entry the transaction tier writes itself: only `rate_limited` summaries.
    static func rateLimitSummary(user: String, source: String, detail: String, timeMs: Int64) -> WireRequest.OneOf_Body {
        appendAudit(.rateLimited, user: user, source: source, detail: detail, timeMs: timeMs)
    }

    /// A key release the database tier audited but this tier could not complete (the device failed):
    /// a `retrieve_refused` entry whose detail names the record.
    static func releaseFailed(user: String, source: String, detail: String, timeMs: Int64) -> WireRequest.OneOf_Body {
        appendAudit(.retrieveRefused, user: user, source: source, detail: detail, timeMs: timeMs)
    }

    /// A transaction process serves the browser module whose manifest has this SHA-256.
    static func webModulePublished(manifestSHA256: String, files: Int, timeMs: Int64) -> WireRequest.OneOf_Body {
        appendAudit(.webModule, user: "-", source: "", detail: WebManifest.auditDetail(sha256: manifestSHA256, files: files), timeMs: timeMs)
    }

    private static func appendAudit(_ kind: AuditKind, user: String, source: String, detail: String, timeMs: Int64) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_AppendAudit()
        message.kind = kind.rawValue
        message.user = user
        message.source = source
        message.detail = detail
        message.timeUnixMs = timeMs
        return .appendAudit(message)
    }

    // MARK: Central copies

    static func beginUpload(_ recordID: [UInt8], sha256: [UInt8], size: Int64, token: Data, session: Session, source: String, timeMs: Int64) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_BeginUpload()
        message.recordID = Data(recordID)
        message.owner = session.user
        message.sha256 = Data(sha256)
        message.size = size
        message.receiptSignature = token
        message.source = source
        message.timeUnixMs = timeMs
        message.clientID = session.clientID
        return .beginUpload(message)
    }

    static func putChunk(_ uploadID: String, offset: Int64, bytes: [UInt8], session: Session) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_PutChunk()
        message.uploadID = uploadID
        message.owner = session.user
        message.offset = offset
        message.data = Data(bytes)
        return .putChunk(message)
    }

    static func commitUpload(_ uploadID: String, session: Session, source: String, timeMs: Int64) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_CommitUpload()
        message.uploadID = uploadID
        message.owner = session.user
        message.source = source
        message.timeUnixMs = timeMs
        message.clientID = session.clientID
        return .commitUpload(message)
    }

    static func openDownload(_ recordID: [UInt8], session: Session, source: String, timeMs: Int64) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_OpenDownload()
        message.recordID = Data(recordID)
        message.owner = session.user
        message.source = source
        message.timeUnixMs = timeMs
        message.clientID = session.clientID
        return .openDownload(message)
    }

    static func readChunk(_ recordID: [UInt8], blobID: String, offset: Int64, length: Int, owner: String) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_ReadChunk()
        message.recordID = Data(recordID)
        message.owner = owner
        message.blobID = blobID
        message.offset = offset
        message.length = UInt32(length)
        return .readChunk(message)
    }

    static func shareRecord(_ recordID: [UInt8], grantee: String, expiresMs: Int64?, session: Session, source: String, timeMs: Int64) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_ShareRecord()
        message.recordID = Data(recordID)
        message.owner = session.user
        message.grantee = grantee
        message.expiresUnixMs = expiresMs ?? 0
        message.source = source
        message.timeUnixMs = timeMs
        message.clientID = session.clientID
        return .shareRecord(message)
    }

    static func unshareRecord(_ recordID: [UInt8], grantee: String, session: Session, source: String, timeMs: Int64) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_UnshareRecord()
        message.recordID = Data(recordID)
        message.owner = session.user
        message.grantee = grantee
        message.source = source
        message.timeUnixMs = timeMs
        message.clientID = session.clientID
        return .unshareRecord(message)
    }

    static func listGrants(user: String, timeMs: Int64) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_ListGrants()
        message.user = user
        message.timeUnixMs = timeMs
        return .listGrants(message)
    }
}

extension WireMessages {
    /// Keys not yet in the form of the KEK whose tag is `currentTag`, after `after`.
    static func listRewrapCandidates(currentTag: [UInt8], after: [UInt8], limit: Int) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_ListRewrapCandidates()
        message.currentTag = Data(currentTag)
        message.afterRecordID = Data(after)
        message.limit = UInt32(limit)
        return .listRewrapCandidates(message)
    }

    /// One batch of a rotation: each key replaced if still the one listed.
    static func rewrapKeys(_ rewraps: [Coffer_Wire_V1_KeyRewrap], kekID: String, source: String) -> WireRequest.OneOf_Body {
        var message = Coffer_Wire_V1_RewrapKeys()
        message.rewraps = rewraps
        message.kekID = kekID
        message.source = source
        return .rewrapKeys(message)
    }
}
