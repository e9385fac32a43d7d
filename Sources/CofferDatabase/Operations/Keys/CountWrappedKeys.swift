import CofferStorage
import CofferWire

/// `CountWrappedKeys`: how many keys each wrapped form holds, for a rotation's progress.
enum CountWrappedKeys: DatabaseOperation {
    static let touches = "records (the first bytes and lengths of wrapped keys)"

    static func answer(_ m: Coffer_Wire_V1_CountWrappedKeys, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        var answer = Coffer_Wire_V1_WrappedKeyCounts()
        answer.counts = try context.store.wrappedKeyCounts().map { form, count in
            var entry = Coffer_Wire_V1_WrappedKeyCount()
            entry.form = form
            entry.count = count
            return entry
        }
        return WireProtocol.response(to: request, .wrappedKeyCounts(answer))
    }
}
