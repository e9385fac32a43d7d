import ArgumentParser
import CofferAPI
import CofferClient
import Foundation

struct Register: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create an account on the key service.",
        discussion: "The password is asked twice on the terminal, or read once with --password-stdin."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var password: PasswordOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let user = try connection.resolvedUser()
        guard Validation.isValidUserName(user) else {
            throw ClientError(.usage, "'\(user)' is not a valid user name: use 1-64 of a-z, 0-9, '.', '_', '-'")
        }
        let client = try connection.client()
        let device = try connection.device()
        try await connection.verifyServer(client, expected: password.serverKey)
        let secret = try password.read(prompt: "New password for \(user): ")
        if let problem = Validation.passwordProblem(secret) { throw ClientError(.usage, problem) }
        if !password.passwordStdin {
            guard try PasswordReader.fromTerminal(prompt: "Repeat the password: ") == secret else {
                throw ClientError(.usage, "the passwords differ; nothing was registered")
            }
        }
        let answer = try await client.register(user: user, password: secret, device: device)
        try output.emit(answer, text: "registered \(answer.user) at \(client.server); next: coffer login")
    }
}

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open a session (15 minutes by default) for later saves and retrieves.",
        discussion: "Every attempt, good or failed, is recorded in your history."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var password: PasswordOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let user = try connection.resolvedUser()
        let client = try connection.client()
        let device = try connection.device()
        try await connection.verifyServer(client, expected: password.serverKey)
        let secret = try password.read(prompt: "Password for \(user): ")
        let answer = try await client.login(user: user, password: secret, device: device)
        try connection.sessions.save(
            .init(server: client.server.description, user: user, token: answer.token, expiresAt: answer.expiresAt),
            server: client.server
        )
        let until = Date(timeIntervalSince1970: TimeInterval(answer.expiresAt))
        struct Result: Encodable { let user: String; let server: String; let expiresAt: Int64 }
        try output.emit(Result(user: user, server: client.server.description, expiresAt: answer.expiresAt),
                        text: "logged in as \(user) at \(client.server) until \(until.formatted(.iso8601))")
    }
}

struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "End your session: the key service refuses it from now on, and this computer forgets it.",
        discussion: """
            Ends every session of this installation. With --everywhere, ends the sessions of all your \
            installations (after a laptop is lost, say); each must log in again. Recorded in your history.
            The session is forgotten here even when the key service cannot be reached; the command then \
            fails, because the session stays valid there until it expires.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @Flag(help: "End the sessions of all your installations, not only this one's.")
    var everywhere = false

    func run() async throws {
        let user = try connection.resolvedUser()
        let client = try connection.client()
        struct Ended: Encodable { let user: String; let server: String; let ended: String }
        guard let stored = try? connection.sessions.load(server: client.server, user: user) else {
            try connection.sessions.remove(server: client.server, user: user)
            if everywhere {
                throw ClientError(.notPermitted, "ending the sessions of every installation needs a session: run `coffer login`, then `coffer logout --everywhere`")
            }
            try output.emit(Ended(user: user, server: client.server.description, ended: "none"),
                            text: "no open session of \(user) at \(client.server); nothing to end")
            return
        }
        let credentials = SessionCredentials(token: stored.token, device: try connection.device())
        let answer: Result<LogoutResponse, any Error>
        do { answer = .success(try await client.logout(everywhere: everywhere, session: credentials)) } catch { answer = .failure(error) }
        // Forgotten here whatever the key service said: a session it refuses is useless, and one it
        // could not end must not stay on this computer.
        try connection.sessions.remove(server: client.server, user: user)
        switch answer {
        case .success(let response):
            try output.emit(Ended(user: user, server: client.server.description, ended: response.ended),
                            text: response.ended == "everywhere" ? "ended every session of \(user) at \(client.server), on all installations"
                                                                 : "ended the session of \(user) at \(client.server)")
        case .failure(let error as ClientError) where error.code == .notPermitted && !everywhere:
            // The key service no longer accepts the session (ended elsewhere, account locked).
            try output.emit(Ended(user: user, server: client.server.description, ended: "already"),
                            text: "the key service no longer accepted the session of \(user) (\(error.message)); forgot it here")
        case .failure(let failure):
            let error = failure as? ClientError ?? ClientError(.unavailable, "\(failure)")
            let until = Date(timeIntervalSince1970: TimeInterval(stored.expiresAt)).formatted(.iso8601)
            throw ClientError(error.code, "forgot the session here, but the key service did not end it (\(error.message)); it stays valid there until \(until)")
        }
    }
}

struct ChangePassword: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password",
        abstract: "Change your password; the sessions of your other installations end.",
        discussion: """
            Asks for the current password, then the new one twice, on the terminal. With --password-stdin, \
            reads the current password from the first line of standard input and the new one from the \
            second. Needs a session (coffer login). A wrong current password counts as a failed login. \
            Recorded in your history.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var password: PasswordOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let (client, session, user) = try connection.session()
        try await connection.verifyServer(client, expected: password.serverKey)
        let current = try password.read(prompt: "Current password for \(user): ")
        let new = try password.read(prompt: "New password for \(user): ")
        if let problem = Validation.passwordProblem(new) { throw ClientError(.usage, problem) }
        if !password.passwordStdin {
            guard try PasswordReader.fromTerminal(prompt: "Repeat the new password: ") == new else {
                throw ClientError(.usage, "the new passwords differ; the password was not changed")
            }
        }
        let answer = try await client.changePassword(current: current, new: new, session: session)
        try output.emit(answer, text: "changed the password of \(user) at \(client.server); the sessions of your other installations ended")
    }
}
