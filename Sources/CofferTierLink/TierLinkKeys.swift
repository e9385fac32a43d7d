import CofferKeys
public import CofferZMQ

/// The keys one end of the tier link needs to connect: its own CURVE key pair (a 0600 secret key
/// file) and the database tier's CURVE public key.
public struct TierLinkKeys: Sendable {
    /// This end's key pair; its public key must be on the database tier's allow list.
    public let keys: CurveKeyPair
    /// The database tier's public key.
    public let serverKey: String
    /// The keys of database processes whose key differs (during a rotation of the database tier's key).
    public let serverKeysByEndpoint: [String: String]

    public init(keys: CurveKeyPair, serverKey: String, serverKeysByEndpoint: [String: String] = [:]) {
        self.keys = keys
        self.serverKey = serverKey
        self.serverKeysByEndpoint = serverKeysByEndpoint
    }

    /// Reads the secret key file (refused when others can read it) and the server's public key file:
    /// one key, and `ENDPOINT KEY` lines for endpoints with another (``CurveKeyFile/readServerKeys(at:)``).
    ///
    /// - Parameter what: Whose key this is, for messages ("the transaction tier's CURVE key").
    public static func load(secretKeyFile: String, serverPublicKeyFile: String, what: String) throws -> TierLinkKeys {
        do {
            _ = try SecretFile.read(secretKeyFile, what: what)
            let keys = try CurveKeyFile.readKeyPair(at: secretKeyFile)
            let server = try CurveKeyFile.readServerKeys(at: serverPublicKeyFile)
            guard let serverKey = server.every ?? server.byEndpoint.values.first else {
                throw KeyFileError("\(serverPublicKeyFile) holds no CURVE public key")
            }
            return TierLinkKeys(keys: keys, serverKey: serverKey, serverKeysByEndpoint: server.byEndpoint)
        } catch let error as KeyFileError {
            throw error
        } catch {
            throw KeyFileError("cannot read the tier-link keys: \(error); run `coffer-admin init` first")
        }
    }
}
