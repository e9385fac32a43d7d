import CofferAudit
import CofferStorage
import CofferWire
import Foundation
import Logging

/// `GetAuditProofs`: the root at a size, inclusion proofs of an owner's entries, and consistency
/// proofs from older sizes (for the checkpointer: no owner, the tree head and the newest stored
/// checkpoint).
enum GetAuditProofs: DatabaseOperation {
    static let touches = "the audit log and its subtree hashes, checkpoints, users (the lock)"

    static func answer(_ m: Coffer_Wire_V1_GetAuditProofs, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        if !m.owner.isEmpty, let locked = try Answers.lockedRefusal(request, owner: m.owner, context.store) { return locked }
        do {
            guard let proofs = try context.store.auditProofs(
                treeSize: m.treeSize == 0 ? nil : m.treeSize, fromSizes: m.fromSizes, indexes: m.indexes, owner: m.owner.isEmpty ? nil : m.owner
            ) else {
                return WireProtocol.error(to: request, .notFound, "a size is beyond the log, or an entry is not the requester's")
            }
            var answer = Coffer_Wire_V1_AuditProofs()
            answer.treeSize = proofs.treeSize
            answer.rootHash = Data(proofs.rootHash)
            if let latest = proofs.latestCheckpoint { answer.latestCheckpoint = Answers.checkpoint(latest) }
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
            answer.restoreIndexes = proofs.restoreIndexes
            return WireProtocol.response(to: request, .auditProofs(answer))
        } catch let error as MerkleError {
            // A missing subtree hash means the stored tree is damaged: say so, loudly.
            context.logger.critical("cannot compute audit proofs", metadata: ["coffer.error": "\(error)"])
            return WireProtocol.error(to: request, .internal, "the audit tree is damaged: \(error)")
        }
    }
}
