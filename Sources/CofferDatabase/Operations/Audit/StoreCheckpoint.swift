import CofferStorage
import CofferWire
import Logging

/// `StoreCheckpoint`: a checkpoint the transaction tier signed, stored only when its root is the
/// log's root at its size.
enum StoreCheckpoint: DatabaseOperation {
    static let touches = "checkpoints, the audit log's subtree hashes"

    static func answer(_ m: Coffer_Wire_V1_StoreCheckpoint, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        let checkpoint = m.checkpoint
        guard checkpoint.treeSize > 0, checkpoint.rootHash.count == 32, !checkpoint.note.isEmpty, checkpoint.note.utf8.count <= 16 * 1024 else {
            return WireProtocol.error(to: request, .badRequest, "a checkpoint needs a tree size, a 32-byte root and a note")
        }
        switch try context.store.storeCheckpoint(treeSize: checkpoint.treeSize, rootHash: Array(checkpoint.rootHash), note: checkpoint.note, timeMs: m.timeUnixMs) {
        case .stored, .alreadyStored:
            return WireProtocol.response(to: request, .ack(.init()))
        case .mismatch:
            context.logger.critical("refused a checkpoint whose root is not the log's root", metadata: ["coffer.tree_size": "\(checkpoint.treeSize)"])
            return WireProtocol.error(to: request, .conflict, "the checkpoint's root is not the log's root at its size")
        }
    }
}
