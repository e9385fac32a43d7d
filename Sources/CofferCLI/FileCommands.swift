import ArgumentParser
import CofferAPI
import CofferClient
import Foundation

struct Save: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Seal a file into a container under a fresh key pair from the key service.",
        discussion: "Writes FILE.coffer beside FILE (or -o PATH). The original file is left as it is."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The file to save.", completion: .file())
    var file: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the container (default: FILE.coffer).", valueName: "path"))
    var out: String?

    @Flag(help: "Replace an existing container.")
    var force = false

    func run() async throws {
        let files = try connection.secureFiles(showProgress: !output.quiet && !output.json)
        let result = try await files.save(input: file, output: out ?? file + ".coffer", force: force)
        try output.emit(result, text: "saved \(result.input) → \(result.output) (record \(result.recordID), \(result.size) bytes)")
    }
}

struct Retrieve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open a container with the decode key the key service releases.",
        discussion: "Writes FILE for FILE.coffer (or -o PATH); never replaces an existing file without --force. The release is recorded in your history before the key is sent."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The container to open.", completion: .file(extensions: ["coffer"]))
    var container: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the file (default: the container's name without .coffer).", valueName: "path"))
    var out: String?

    @Flag(help: "Replace an existing file.")
    var force = false

    func run() async throws {
        let files = try connection.secureFiles(showProgress: !output.quiet && !output.json)
        let result = try await files.retrieve(input: container, output: out, force: force)
        try output.emit(result, text: "retrieved \(result.input) → \(result.output) (\(result.size) bytes, SHA-256 checked)")
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the audit history of a container's record, or of your whole account.",
        discussion: "Without FILE: every event of your account, failed logins included."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "A container whose record's history to show.", completion: .file(extensions: ["coffer"]))
    var container: String?

    func run() async throws {
        let (client, session, _) = try connection.session()
        let recordID = try container.map { try SecureFiles.recordID(ofContainer: $0) }
        let answer = try await client.history(recordID: recordID, session: session)
        try output.emit(answer, text: Self.table(answer.events))
    }

    static func table(_ events: [HistoryEvent]) -> String {
        if events.isEmpty { return "no events" }
        let formatter = ISO8601DateFormatter()
        return events.map { event in
            let time = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(event.time) / 1000))
            var line = "\(time)  \(event.kind.padding(toLength: 17, withPad: " ", startingAt: 0))"
            if let name = event.fileName { line += " \(name)" }
            if let id = event.recordID { line += " [\(id)]" }
            line += " from \(event.source)"
            if !event.clientID.isEmpty { line += " client \(event.clientID.prefix(8))" }
            if !event.detail.isEmpty { line += " — \(event.detail)" }
            return line
        }.joined(separator: "\n")
    }
}
