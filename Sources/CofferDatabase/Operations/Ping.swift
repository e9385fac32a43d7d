import CofferStorage
import CofferWire

/// `Ping`: the store's kind and schema version; asked `with_status`, the store's status too.
enum Ping: DatabaseOperation {
    static let touches = "nothing (the schema version); with status: the audit log's length, checkpoints, records, replication"

    static func answer(_ message: Coffer_Wire_V1_Ping, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        var pong = Coffer_Wire_V1_Pong()
        pong.store = context.store.storeName
        pong.schemaVersion = UInt32(context.store.schemaVersion)
        if message.withStatus {
            let status = try context.store.status()
            pong.status.auditEntries = status.auditEntries
            pong.status.checkpointSize = status.checkpointSize
            pong.status.checkpointStoredMs = status.checkpointStoredMs ?? 0
            pong.status.replication = status.replication
            pong.status.restoreIndexes = status.restoreIndexes
            pong.status.records = status.records
        }
        return WireProtocol.response(to: request, .pong(pong))
    }
}
