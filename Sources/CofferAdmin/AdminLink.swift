import CofferTransaction
import CofferZMQ
public import Logging

/// The operator's connection to the database tier: ZeroMQ with the operator's own CURVE key
/// (`KEYS/admin/curve.secret`, which `coffer-admin init` makes and adds to the allow list).
enum AdminLink {
    static func connect(keysDirectory: String, endpoint: String, timeout: Duration, logger: Logger) throws -> DatabaseLink {
        let secret = "\(keysDirectory)/admin/curve.secret"
        _ = try SecretFile.read(secret, what: "the operator's CURVE key")
        let keys = try CurveKeyFile.readKeyPair(at: secret)
        guard let serverKey = try CurveKeyFile.readPublicKeys(at: "\(keysDirectory)/admin/database-curve.public").first else {
            throw AdminError("\(keysDirectory)/admin/database-curve.public holds no CURVE key")
        }
        return try DatabaseLink(endpoints: [endpoint], keys: keys, serverKey: serverKey, timeout: timeout, logger: logger)
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
