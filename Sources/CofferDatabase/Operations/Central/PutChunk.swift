import CofferStorage
import CofferWire
import Foundation

/// `PutChunk`: stages one chunk of an upload at its offset.
enum PutChunk: DatabaseOperation {
    static let touches = "central uploads, the blob store"

    static func answer(_ m: Coffer_Wire_V1_PutChunk, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard !m.uploadID.isEmpty, !m.owner.isEmpty, m.offset >= 0, !m.data.isEmpty, m.data.count <= WireDefaults.centralChunkSize else {
            return WireProtocol.error(to: request, .badRequest, "a chunk needs an upload id, an owner, an offset and 1 to \(WireDefaults.centralChunkSize) bytes")
        }
        let outcome = try context.store.putChunk(uploadID: m.uploadID, owner: m.owner, offset: m.offset, bytes: Array(m.data))
        return Answers.central(request, outcome, missing: "no such upload") { received in
            var stored = Coffer_Wire_V1_ChunkStored()
            stored.received = received
            return .chunkStored(stored)
        }
    }
}
