import Foundation

/// A SoftHSM2 token made for one test in a folder of its own: its configuration file
/// (`SOFTHSM2_CONF`), its token store, and a PIN file of mode 0600.
public struct SoftHSMToken: Sendable {
    /// Debian's SoftHSM2 module.
    public static let module = "/usr/lib/softhsm/libsofthsm2.so"
    public let directory: String
    public let label: String
    /// Whether the transaction tier's TLS key is the token's (`--tls-key token`), or stays a file.
    public var tlsKeyInToken = true
    public var configuration: String { directory + "/softhsm2.conf" }
    public var tokenStore: String { directory + "/tokens" }
    public var pinFile: String { directory + "/token.pin" }
    /// What every process that opens the token needs.
    public var environment: [String: String] { ["SOFTHSM2_CONF": configuration] }

    /// `coffer-admin init`'s flags for this token.
    public var adminArguments: [String] {
        ["--pkcs11-module", Self.module, "--token-label", label, "--token-pin-file", pinFile]
    }

    /// `coffer-transaction`'s flags for this token (its TLS key in the token too).
    public var transactionArguments: [String] {
        ["--pkcs11-module", Self.module, "--token-label", label, "--token-pin-file", pinFile] + (tlsKeyInToken ? ["--tls-key", "token"] : [])
    }

    /// Makes the folder, the configuration and a token labelled `label` with user PIN `pin`.
    public static func make(in directory: String, label: String = "coffer", pin: String = "0112358") async throws -> SoftHSMToken {
        let token = SoftHSMToken(directory: directory, label: label)
        try FileManager.default.createDirectory(atPath: token.tokenStore, withIntermediateDirectories: true)
        try "directories.tokendir = \(token.tokenStore)\nobjectstore.backend = file\nlog.level = ERROR\n"
            .write(toFile: token.configuration, atomically: true, encoding: .utf8)
        let process = try TestProcess("/usr/bin/softhsm2-util", ["--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", "24681357"],
                                      environment: ["PATH": "/usr/bin:/bin"].merging(token.environment) { $1 }, logDirectory: directory)
        guard try await process.wait(timeout: .seconds(60)) == 0 else { throw TestError("softhsm2-util --init-token failed: \(process.standardError)") }
        try writePIN(pin, to: token.pinFile)
        return token
    }

    /// Writes `pin` and a newline to a new file `path` of `mode`, as an operator writes a PIN file.
    public static func writePIN(_ pin: String, to path: String, mode: Int = 0o600) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data((pin + "\n").utf8), attributes: [.posixPermissions: mode]) else {
            throw TestError("cannot write \(path)")
        }
    }
}
