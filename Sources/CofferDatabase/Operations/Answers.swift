import CofferAudit
import CofferStorage
import CofferWire
import Foundation

/// The answers several operations share.
enum Answers {
    /// An Ack carrying the audit index of what was done, or NOT_FOUND saying what was missing.
    static func audited(_ request: WireRequest, _ index: Int64?, missing: String) -> WireResponse {
        guard let index else { return WireProtocol.error(to: request, .notFound, missing) }
        var ack = Coffer_Wire_V1_Ack()
        ack.auditIndex = index
        return WireProtocol.response(to: request, .ack(ack))
    }

    /// FORBIDDEN with the refusal's reason, or ACCOUNT_LOCKED when an operator locked the account.
    /// QUOTA_EXCEEDED, NOT_FOUND or CONFLICT for the central copies' refusals that say so.
    static func refusal(_ request: WireRequest, _ refusal: Refusal) -> WireResponse {
        let code: Coffer_Wire_V1_Error.Code = switch refusal {
        case .accountLocked: .accountLocked
        case .quotaExceeded: .quotaExceeded
        case .noCentralCopy: .notFound
        case .centralCopyReplaced, .uploadIncomplete: .conflict
        case .unknownGrantee, .shareWithSelf, .grantEndsInPast: .badRequest
        default: .forbidden
        }
        return WireProtocol.error(to: request, code, refusal.reason)
    }

    /// A central copy as the tier protocol carries it.
    static func central(_ copy: CentralCopy) -> Coffer_Wire_V1_CentralCopy {
        var wire = Coffer_Wire_V1_CentralCopy()
        wire.recordID = Data(copy.recordID)
        wire.sha256 = Data(copy.sha256)
        wire.size = copy.size
        wire.generation = copy.generation
        wire.blobID = copy.blobID
        wire.updatedUnixMs = copy.updatedAtMs
        wire.auditIndex = copy.auditIndex
        wire.receiptSignature = Data(copy.receiptSignature)
        return wire
    }

    /// The answer to a central-copy outcome: `done` made into a body, or the refusal.
    static func central<Value>(_ request: WireRequest, _ outcome: CentralOutcome<Value>, missing: String,
                               _ body: (Value) -> WireResponse.OneOf_Body) -> WireResponse {
        switch outcome {
        case .done(let value): WireProtocol.response(to: request, body(value))
        case .notFound: WireProtocol.error(to: request, .notFound, missing)
        case .refused(let refusal): Self.refusal(request, refusal)
        }
    }

    /// The answer to a share or an unshare: an Ack with its audit index, NOT_FOUND, or the refusal
    /// (BAD_REQUEST for a grantee who cannot be one).
    static func grant(_ request: WireRequest, _ outcome: GrantOutcome) -> WireResponse {
        switch outcome {
        case .done(let index):
            var ack = Coffer_Wire_V1_Ack()
            ack.auditIndex = index
            return WireProtocol.response(to: request, .ack(ack))
        case .notFound(let reason): return WireProtocol.error(to: request, .notFound, reason)
        case .refused(let refusal): return Self.refusal(request, refusal)
        }
    }

    /// The answer to a confirmation or a deletion.
    static func change(_ request: WireRequest, _ outcome: RecordChange) -> WireResponse {
        switch outcome {
        case .done, .alreadyDone: WireProtocol.response(to: request, .ack(.init()))
        case .notFound: WireProtocol.error(to: request, .notFound, "no such record")
        case .refused(let refusal): Self.refusal(request, refusal)
        }
    }

    /// ACCOUNT_LOCKED when an operator locked `owner`, for the reads that check nothing else of theirs.
    static func lockedRefusal(_ request: WireRequest, owner: String, _ store: RecordStore) throws -> WireResponse? {
        try store.isLocked(user: owner) ? refusal(request, .accountLocked) : nil
    }

    /// An audit entry as the tier protocol carries it.
    static func event(_ entry: AuditEntry) -> Coffer_Wire_V1_AuditEvent {
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

    /// A stored checkpoint as the tier protocol carries it.
    static func checkpoint(_ checkpoint: StoredCheckpoint) -> Coffer_Wire_V1_SignedCheckpoint {
        var wire = Coffer_Wire_V1_SignedCheckpoint()
        wire.treeSize = checkpoint.treeSize
        wire.rootHash = Data(checkpoint.rootHash)
        wire.note = checkpoint.note
        return wire
    }

    /// The device a request names, if any.
    static func device(_ has: Bool, _ device: Coffer_Wire_V1_Device) -> DeviceIdentity? {
        has ? DeviceIdentity(clientID: device.clientID, publicKey: Array(device.publicKey)) : nil
    }
}
