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
                        text: "logged in as \(user) at \(client.server) until \(until.formatted(date: .omitted, time: .standard))")
    }
}
