import ArgumentParser
import CofferAPI
import CofferClient

/// `coffer web …`: the browser module the key service serves.
struct Web: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the browser module the key service serves.",
        subcommands: [WebVerify.self]
    )
}

struct WebVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Prove which browser module the key service serves: signed by its identity key, served byte for byte, and in the audit log.",
        discussion: """
            Fetches /v1/web/manifest and checks its signature with the identity key pinned for this server, fetches every file the
            manifest lists (and /) and compares each one's size and SHA-256, then proves that the audit log's newest signed checkpoint
            includes the web_module entry naming this manifest. Needs a session (coffer login) for the audit proofs.
            Exits 0 when everything holds, 65 when the served module or the log does not match, 69 when the key service cannot be
            reached, 75 when the entry is not yet in a signed checkpoint (verify again shortly), 77 without a session.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(help: ArgumentHelp("The key service's identity key fingerprint to require (sha256:…).", valueName: "fingerprint"))
    var serverKey: String?

    func run() async throws {
        let (client, session, _) = try connection.session()
        let identityKey = try await connection.verifyServer(client, expected: serverKey)
        let journal = AuditJournal(stateDirectory: connection.stateDirectory, server: client.server)
        let report = try await WebModuleVerifier(service: client, session: session, journal: journal).verify(identityKey: identityKey)
        let total = report.files.reduce(0) { $0 + $1.size }
        try output.emit(report, lines: report.files.map { "  \($0.sha256)  \($0.size)  \($0.path)" } + [
            "verified: the served module is manifest sha256:\(report.manifestSHA256) (\(report.files.count) files, \(total) bytes), signed by the identity key, served byte for byte, and recorded as audit entry #\(report.auditIndex) in the signed checkpoint of \(report.treeSize) entries",
        ])
    }
}
