import CofferStorage
import CofferWire

/// `GetCredentials`: an account's password hash and lock state, for a password check.
enum GetCredentials: DatabaseOperation {
    static let touches = "users"

    static func answer(_ m: Coffer_Wire_V1_GetCredentials, to request: WireRequest, in context: OperationContext) throws -> WireResponse {
        guard let found = try context.store.credentials(user: m.user) else {
            return WireProtocol.error(to: request, .notFound, "no such user")
        }
        var credentials = Coffer_Wire_V1_Credentials()
        credentials.user = m.user
        credentials.passwordHash = found.passwordHash
        credentials.locked = found.locked
        credentials.lockedUntilUnixMs = found.lockedUntilMs
        return WireProtocol.response(to: request, .credentials(credentials))
    }
}
