import CofferStorage
import CofferWire

/// `Ping`: the store's kind and schema version.
enum Ping: DatabaseOperation {
    static let touches = "nothing (the schema version)"

    static func answer(_ message: Coffer_Wire_V1_Ping, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        var pong = Coffer_Wire_V1_Pong()
        pong.store = context.store.storeName
        pong.schemaVersion = UInt32(context.store.schemaVersion)
        return WireProtocol.response(to: request, .pong(pong))
    }
}
