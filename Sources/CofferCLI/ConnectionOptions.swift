import ArgumentParser
import CofferAPI
import CofferClient
import CofferText
import Crypto
import Foundation

/// Where the key service is, how to trust it, and who is asking.
struct ConnectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The transaction tier, HOST:PORT; several as A,B,… are tried in order when one cannot be reached (default: $COFFER_SERVER).", valueName: "host:port"))
    var server: String?

    @Option(help: ArgumentHelp("The deployment's CA certificate, PEM (default: $COFFER_CA).", valueName: "file"))
    var ca: String?

    @Option(help: ArgumentHelp("The user name (default: $COFFER_USER).", valueName: "name"))
    var user: String?

    @Option(help: ArgumentHelp("Seconds to wait for the key service to answer (default: $COFFER_TIMEOUT, else 9).", valueName: "seconds"))
    var timeout: Int?

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    func resolvedUser() throws -> String {
        guard let user = user ?? environment["COFFER_USER"], !user.isEmpty else {
            throw ClientError(.configuration, "no user given: use --user NAME or set COFFER_USER")
        }
        return user
    }

    func serverAddress() throws -> ServerAddress {
        guard let server = server ?? environment["COFFER_SERVER"], !server.isEmpty else {
            throw ClientError(.configuration, "no key service given: use --server HOST:PORT or set COFFER_SERVER (for a local deployment: eval \"$(deploy/local env)\")")
        }
        return try ServerAddress.list(server)[0]
    }

    /// The deployment's other addresses, after the first of `--server A,B,…`.
    func alternateAddresses() throws -> [ServerAddress] {
        guard let server = server ?? environment["COFFER_SERVER"], !server.isEmpty else { return [] }
        return Array(try ServerAddress.list(server).dropFirst())
    }

    func client() throws -> KeyServiceClient {
        guard let ca = ca ?? environment["COFFER_CA"], !ca.isEmpty else {
            throw ClientError(.configuration, "no CA certificate given: use --ca FILE or set COFFER_CA")
        }
        let seconds = timeout ?? environment["COFFER_TIMEOUT"].flatMap { Int($0) } ?? 9
        guard seconds > 0 else { throw ClientError(.usage, "--timeout must be a positive number of seconds") }
        return try KeyServiceClient(server: try serverAddress(), alternates: try alternateAddresses(), caFile: ca, timeout: .seconds(seconds))
    }

    var stateDirectory: String { SessionStore.defaultDirectory() }
    var sessions: SessionStore { SessionStore(directory: stateDirectory) }

    /// This installation's device key, created on first use.
    func device() throws -> DeviceKey { try DeviceKey.loadOrCreate(in: stateDirectory) }

    /// The stored session of the user, with the device key that signs its requests.
    func session() throws -> (KeyServiceClient, SessionCredentials, String) {
        let user = try resolvedUser()
        let client = try client()
        let stored = try sessions.load(server: client.server, user: user)
        return (client, SessionCredentials(token: stored.token, device: try device()), user)
    }

    /// The files API for a logged-in user.
    func secureFiles(showProgress: Bool) throws -> SecureFiles {
        let (client, credentials, user) = try session()
        return SecureFiles(service: client, session: credentials, user: user, showProgress: showProgress,
                           journal: AuditJournal(stateDirectory: stateDirectory, server: client.server))
    }

    /// Has the server prove its identity key and checks it against the pinned one (or `--server-key`).
    @discardableResult
    func verifyServer(_ client: KeyServiceClient, expected: String?) async throws -> P256.Signing.PublicKey {
        let known = KnownServers(directory: stateDirectory)
        let result = try await client.verifyIdentity(knownServers: known, expected: expected ?? environment["COFFER_SERVER_KEY"])
        switch result.outcome {
        case .known, .retired:
            break
        case .pinned:
            Terminal.warn("pinned the identity key of \(client.server): \(result.fingerprint)")
        case .rotated(let previous, let path):
            let moment = Date(timeIntervalSince1970: Double(path.last?.from ?? 0) / 1000).formatted(.iso8601)
            Terminal.warn("the key service \(client.server) rotated its identity key from \(previous) to \(result.fingerprint) (from \(moment)), vouched for by the pinned key; pinned the new key")
        }
        return result.key
    }
}

/// How a password reaches the client, and which server identity to expect.
struct PasswordOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The key service's identity key fingerprint to require (sha256:…; default: $COFFER_SERVER_KEY, else pinned at first contact).", valueName: "fingerprint"))
    var serverKey: String?

    @Flag(help: "Read the password from the first line of standard input instead of the terminal.")
    var passwordStdin = false

    func read(prompt: String) throws -> String {
        passwordStdin ? try PasswordReader.fromStandardInput() : try PasswordReader.fromTerminal(prompt: prompt)
    }
}

/// Output format.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print the result as JSON, for scripts.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print nothing on success and no progress bar.")
    var quiet = false

    /// Prints `value` as JSON, or `text` as one line.
    ///
    /// Everything printed passes through ``DisplayText``: file names, history details and answers
    /// come from outside, and a scalar that does not show as itself (a bidi override, a C1 control,
    /// a line separator) is escaped instead of reaching the terminal.
    func emit<T: Encodable>(_ value: T, text: @autoclosure () -> String) throws {
        try emit(value, lines: [text()])
    }

    /// Prints `value` as JSON, or `lines` one per line; a line break inside a line is escaped, so
    /// that no field can fake a line of its own.
    func emit<T: Encodable>(_ value: T, lines: @autoclosure () -> [String]) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(DisplayText.escapingJSON(String(decoding: try encoder.encode(value), as: UTF8.self)))
        } else if !quiet {
            for line in lines() { print(DisplayText.terminal(line)) }
        }
    }
}
