import CofferTierLink
import CofferWire
public import Logging

/// How many decode keys each wrapped form holds (`coffer-admin keys status`): a KEK rotation is
/// done when no key is left under the KEK being retired.
public enum WrappedKeyInventory {
    /// The counts by form: `kek:ID`, `kek-v1` (untagged key files) or `device`.
    public static func counts(keysDirectory: String, endpoint: String, timeout: Duration, logger: Logger) async throws -> [(form: String, count: Int64)] {
        let link = try AdminLink.connect(keysDirectory: keysDirectory, endpoint: endpoint, timeout: timeout, logger: logger)
        defer { link.shutdown() }
        guard case .wrappedKeyCounts(let answer) = try await link.call(.countWrappedKeys(.init())) else {
            throw AdminError("the database tier gave an unexpected answer")
        }
        return answer.counts.map { ($0.form, $0.count) }
    }
}
