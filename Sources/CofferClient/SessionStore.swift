import CofferFiles
public import Foundation

/// Keeps the client's login session per server and user in its state folder, mode 0600.
public struct SessionStore: Sendable {
    /// A stored session.
    public struct Session: Codable, Sendable {
        public var server: String
        public var user: String
        public var token: String
        public var expiresAt: Int64

        public init(server: String, user: String, token: String, expiresAt: Int64) {
            self.server = server
            self.user = user
            self.token = token
            self.expiresAt = expiresAt
        }
    }

    /// The client's state folder (`$COFFER_HOME`, else `$XDG_CONFIG_HOME/coffer`, else `~/.config/coffer`).
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// The default state folder for this environment.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let home = environment["COFFER_HOME"], !home.isEmpty { return home }
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty { return xdg + "/coffer" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.config/coffer"
    }

    private func path(server: ServerAddress, user: String) -> String {
        let safeServer = server.description.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" }
        return "\(directory)/sessions/\(user)@\(String(safeServer)).json"
    }

    /// Stores a session, replacing the previous one.
    public func save(_ session: Session, server: ServerAddress) throws {
        let folder = directory + "/sessions"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let data = try JSONEncoder().encode(session)
            try AtomicFile.write(Array(data), to: path(server: server, user: session.user), mode: 0o600)
        } catch {
            throw ClientError(.cannotCreate, "cannot store the session in \(folder): \(error)")
        }
    }

    /// Forgets the stored session of `user` at `server`; `false` when there was none.
    @discardableResult
    public func remove(server: ServerAddress, user: String) throws -> Bool {
        let target = path(server: server, user: user)
        if unlink(target) == 0 { return true }
        if errno == ENOENT { return false }
        throw ClientError(.ioError, "cannot remove the session file \(target): \(String(cString: strerror(errno)))")
    }

    /// The unexpired session for `user` at `server`.
    public func load(server: ServerAddress, user: String, now: Date = Date()) throws -> Session {
        guard let data = FileManager.default.contents(atPath: path(server: server, user: user)),
              let session = try? JSONDecoder().decode(Session.self, from: data)
        else {
            throw ClientError(.notPermitted, "not logged in as \(user) at \(server); run `coffer login`")
        }
        guard session.expiresAt > Int64(now.timeIntervalSince1970) else {
            throw ClientError(.notPermitted, "the session of \(user) at \(server) has expired; run `coffer login`")
        }
        return session
    }
}
