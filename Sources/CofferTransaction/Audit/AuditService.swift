import CofferAPI
import CofferAudit
import CofferTierLink
import CofferWire
import Foundation
import Logging
import HTTPTypes
import CofferKeys
import Crypto

/// The audit history as its owner sees it: their events, the newest signed checkpoint, and the
/// proofs that their entries are in it (docs/AUDIT.md).
struct AuditService: Sendable {
    let database: DatabaseGateway
    let keys: any KeyBackend
    let identity: IdentityKeys
    let checkpointer: Checkpointer

    /// The owner's audit history, or one of their record's.
    func history(_ request: SignedRequestContext, recordID: String?) async throws -> HistoryResponse {
        let id = try recordID.map { text in
            guard let bytes = RecordID.bytes(text) else { throw APIError.badRequest("the record id must be a UUID") }
            return bytes
        }
        let list = WireMessages.listHistory(owner: request.session.user, recordID: id)
        let answer: WireResponse.OneOf_Body
        do {
            answer = try await database.call(list, replayGuard: request.replayGuard)
        } catch DatabaseLinkError.refused(.notFound, _) {
            throw APIError(.notFound, "not_found", "no record \(recordID ?? "") belongs to you")
        }
        guard case .history(let history) = answer else { throw database.unexpected(answer, to: list) }
        return HistoryResponse(events: try history.events.map { event in
            let recordID: String?
            if event.recordID.isEmpty {
                recordID = nil
            } else {
                guard let text = RecordID.text(Array(event.recordID)) else { throw database.unexpected(answer, to: list) }
                recordID = text
            }
            return HistoryEvent(
                index: event.index, time: event.timeUnixMs, kind: event.kind, user: event.user, recordID: recordID,
                fileName: event.fileName.isEmpty ? nil : event.fileName, detail: event.detail, source: event.source,
                clientID: event.clientID, leaf: event.leaf.isEmpty ? nil : event.leaf.base64EncodedString()
            )
        })
    }

    /// The newest checkpoint of the audit log, signed now if the log grew, with the identity key's
    /// statement naming the checkpoint key. The request's nonce is consumed like any other's, so a
    /// replayed request is refused.
    func checkpoint(_ request: SignedRequestContext) async throws -> AuditCheckpointResponse {
        _ = try await database.call(.ping(.init()), replayGuard: request.replayGuard)
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
        let message = AuditKeyStatement.message(verifierKey: checkpointer.verifierKey)
        let statement = try await identity.sign(message, keys: keys)
        return AuditCheckpointResponse(
            checkpoint: signed.note, verifierKey: checkpointer.verifierKey,
            verifierKeySignature: statement.derRepresentation.base64EncodedString(),
            restores: signed.restoreIndexes.isEmpty ? nil : signed.restoreIndexes
        )
    }

    /// Inclusion proofs of the caller's own entries and a consistency proof, at a checkpoint's size.
    func proofs(_ body: AuditProofsRequest, _ request: SignedRequestContext) async throws -> AuditProofsResponse {
        guard body.treeSize > 0, body.indexes.count <= 1_000, body.indexes.allSatisfy({ $0 >= 0 && $0 < body.treeSize }),
              body.fromSize.map({ $0 >= 0 && $0 <= body.treeSize }) ?? true
        else { throw APIError.badRequest("treeSize must be positive, indexes (at most 1000) below it, and fromSize at most treeSize") }
        let ask = WireMessages.getAuditProofs(owner: request.session.user, treeSize: body.treeSize, indexes: body.indexes,
                                              fromSizes: body.fromSize.map { [$0] } ?? [])
        let answer: WireResponse.OneOf_Body
        do {
            answer = try await database.call(ask, replayGuard: request.replayGuard)
        } catch DatabaseLinkError.refused(.notFound, _) {
            throw APIError(.notFound, "not_found", "the tree size is beyond the log, or an index is not one of your entries")
        }
        guard case .auditProofs(let proofs) = answer else { throw database.unexpected(answer, to: ask) }
        return AuditProofsResponse(
            treeSize: proofs.treeSize, rootHash: proofs.rootHash.base64EncodedString(),
            inclusion: proofs.inclusion.map { AuditInclusionProof(index: $0.index, leaf: $0.leaf.base64EncodedString(), proof: $0.hashes.map { $0.base64EncodedString() }) },
            consistency: body.fromSize.flatMap { from in proofs.consistency.first { $0.fromSize == from }?.hashes.map { $0.base64EncodedString() } }
        )
    }
}
