import CofferStorage
import CofferWire
import Foundation

/// `ReadChunk`: bytes of an opened central copy, while it is still the record's current one and the
/// requester may still read it (a grant is checked at each chunk, by the database tier's clock).
enum ReadChunk: DatabaseOperation {
    static let touches = "records, grants, central copies, the blob store"

    static func answer(_ m: Coffer_Wire_V1_ReadChunk, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard m.recordID.count == 16, !m.owner.isEmpty, !m.blobID.isEmpty, m.offset >= 0, m.length > 0, m.length <= WireDefaults.centralChunkSize else {
            return WireProtocol.error(to: request, .badRequest, "a read needs a record id, an owner, a blob id, an offset and a length of 1 to \(WireDefaults.centralChunkSize)")
        }
        let outcome = try context.store.readCentral(recordID: Array(m.recordID), owner: m.owner, blobID: m.blobID, offset: m.offset, length: Int(m.length),
                                                    timeMs: context.nowMs)
        return Answers.central(request, outcome, missing: "no such record") { bytes in
            var data = Coffer_Wire_V1_ChunkData()
            data.data = Data(bytes)
            return .chunkData(data)
        }
    }
}
