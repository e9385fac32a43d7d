import CofferTierLink
import Logging

/// The operator's connection to the database tier: ZeroMQ with the operator's own CURVE key
/// (`KEYS/admin/curve.secret`, which `coffer-admin init` makes and adds to the allow list).
enum AdminLink {
    static func connect(keysDirectory: String, endpoint: String, timeout: Duration, logger: Logger) throws -> DatabaseLink {
        let keys = try TierLinkKeys.load(secretKeyFile: "\(keysDirectory)/admin/curve.secret",
                                         serverPublicKeyFile: "\(keysDirectory)/admin/database-curve.public", what: "the operator's CURVE key")
        var configuration = DatabaseLink.Configuration(endpoints: [endpoint])
        configuration.timeout = timeout
        configuration.attemptTimeout = timeout
        return try DatabaseLink(configuration: configuration, keys: keys, logger: logger)
    }
}

/// An operator's request that cannot be done, with the reason.
public struct AdminError: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// The account named does not exist.
    public let unknownUser: Bool
    init(_ description: String, unknownUser: Bool = false) {
        self.description = description
        self.unknownUser = unknownUser
    }
}
