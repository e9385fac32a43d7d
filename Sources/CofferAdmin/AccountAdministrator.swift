public import CofferWire
import CofferTierLink
import Foundation
public import Logging

/// Lists accounts and locks or unlocks them for an operator (`coffer-admin users`), over the
/// operator's link to the database tier. Each lock and unlock is audited as an `admin` entry.
public struct AccountAdministrator: Sendable {
    let link: DatabaseLink

    /// Connects with the keys under `keysDirectory` (the folder `coffer-admin init` made).
    public init(keysDirectory: String, endpoint: String, timeout: Duration, logger: Logger) throws {
        self.link = try AdminLink.connect(keysDirectory: keysDirectory, endpoint: endpoint, timeout: timeout, logger: logger)
    }

    /// Every account, by name.
    public func users() async throws -> [Coffer_Wire_V1_UserSummary] {
        defer { link.shutdown() }
        var all: [Coffer_Wire_V1_UserSummary] = []
        var page = Coffer_Wire_V1_ListUsers()
        page.limit = 1_000
        while true {
            guard case .users(let users) = try await link.call(.listUsers(page)) else { throw AdminError("unexpected answer from the database tier") }
            all += users.users
            guard let last = users.users.last, users.users.count == Int(page.limit) else { return all }
            page.after = last.name
        }
    }

    /// Locks or unlocks `user`; returns the audit entry's index.
    public func setLocked(_ user: String, locked: Bool, reason: String, operatorName: String) async throws -> Int64 {
        defer { link.shutdown() }
        var request = Coffer_Wire_V1_SetUserLock()
        request.user = user
        request.locked = locked
        request.reason = reason
        request.operator = operatorName
        request.timeUnixMs = Int64(Date().timeIntervalSince1970 * 1000)
        do {
            guard case .ack(let ack) = try await link.call(.setUserLock(request)) else { throw AdminError("unexpected answer from the database tier") }
            return ack.auditIndex
        } catch DatabaseLinkError.refused(.notFound, _) {
            throw AdminError("there is no user \(user)", unknownUser: true)
        }
    }
}
