import ArgumentParser
import CofferAPI
import CofferClient
import CofferText
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

    @Flag(help: "Also upload the container as the record's central copy, kept by the key service (coffer push).")
    var central = false

    func run() async throws {
        let files = try connection.secureFiles(showProgress: !output.quiet && !output.json)
        let result = try await files.save(input: file, output: out ?? file + ".coffer", force: force)
        guard central else {
            try output.emit(result, text: "saved \(result.input) → \(result.output) (record \(result.recordID), \(result.size) bytes)")
            return
        }
        let pushed: SecureFiles.PushResult
        do {
            pushed = try await files.push(container: result.output)
        } catch let error as ClientError {
            throw ClientError(error.code, "saved \(result.input) → \(result.output) (record \(result.recordID)), but its central copy was not stored: \(error.message); run `coffer push \(result.output)` to upload it")
        }
        let copy = pushed.central.map { " and its central copy (generation \($0.generation), \($0.size) bytes)" } ?? ""
        try output.emit(SavedCentrally(save: result, push: pushed),
                        text: "saved \(result.input) → \(result.output)\(copy) (record \(result.recordID), \(result.size) bytes)")
    }

    /// `coffer save --central --json`: the save and the push.
    struct SavedCentrally: Encodable {
        let save: SecureFiles.SaveResult
        let push: SecureFiles.PushResult
    }
}

struct Push: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upload a container as its record's central copy, kept by the key service.",
        discussion: """
            The key service keeps one encrypted copy of each record you push, never the plaintext, and replaces it \
            whenever a retrieve re-seals it, so the central copy is always the one that opens: retrieve it from any \
            installation with `coffer retrieve --central NAME`. The container's receipt is checked first; an upload \
            that stops is resumed from what the service already holds (run the same command again). Refused before \
            anything is sent when it would exceed your quota.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The container to upload.", completion: .file(extensions: ["coffer"]))
    var container: String

    func run() async throws {
        let files = try connection.secureFiles(showProgress: !output.quiet && !output.json)
        let result = try await files.push(container: container)
        let generation = result.central.map { "generation \($0.generation), \($0.size) bytes" } ?? "stored"
        try output.emit(result, text: result.alreadyCurrent
            ? "the central copy of record \(result.recordID) already is \(container) (\(generation)); nothing was sent"
            : "uploaded \(container) as the central copy of record \(result.recordID) (\(generation))")
    }
}

struct Retrieve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open a container with the decode key the key service releases.",
        discussion: """
            Writes FILE for FILE.coffer (or -o PATH); never replaces an existing file without --force. The release is \
            recorded in your history before the key is sent. Then the container is re-sealed in place under a fresh \
            key pair and the old decode key is destroyed, so a key that leaked before opens nothing now; older copies \
            of the container are refused from then on.

            With --central, CONTAINER names a record with a central copy instead (its record id, or its file name: \
            the newest of your records of that name, or else one shared with you): \
            the central copy is downloaded, checked against the SHA-256 it was stored with, opened to the file name \
            in the current folder (or -o PATH), re-sealed, and uploaded again to replace it.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The container to open (with --central: a record id or file name).", completion: .file(extensions: ["coffer"]))
    var container: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the file (default: the container's name without .coffer).", valueName: "path"))
    var out: String?

    @Flag(help: "Replace an existing file.")
    var force = false

    @Flag(help: "Open the record's central copy, kept by the key service, instead of a local container.")
    var central = false

    func run() async throws {
        let files = try connection.secureFiles(showProgress: !output.quiet && !output.json)
        if central {
            let result = try await files.retrieveCentral(container, output: out, force: force)
            if let problem = result.resealProblem {
                Terminal.warn("warning: the central copy of \(result.recordID) was not re-sealed: \(problem)")
            }
            let resealed = result.resealed ? "; central copy re-sealed and replaced (generation \(result.central?.generation ?? 0)), old decode key destroyed" : ""
            try output.emit(result, text: "retrieved the central copy of \(result.recordID) → \(result.output) (\(result.size) bytes, SHA-256 checked\(resealed))")
            return
        }
        let result = try await files.retrieve(input: container, output: out, force: force)
        if let problem = result.resealProblem {
            Terminal.warn("warning: \(container) was not re-sealed: \(problem)")
        }
        let central = result.centralReplaced == true ? ", central copy replaced" : ""
        let resealed = result.resealed ? "; container re-sealed under a new key pair\(central), old decode key destroyed" : ""
        try output.emit(result, text: "retrieved \(result.input) → \(result.output) (\(result.size) bytes, SHA-256 checked\(resealed))")
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the audit history of a container's record, or of your whole account.",
        discussion: """
            Without FILE: every event of your account, failed logins included, and what others did with the records you \
            shared with them (`by USER`).
            With --verify (needs FILE): proves every listed entry is in the audit log's newest signed checkpoint, that
            the log extends the last checkpoint this client verified (kept under ~/.config/coffer/audit), and that every save and
            retrieve this client saw acknowledged is still listed. Exits 65 and says THE AUDIT HISTORY WAS REWRITTEN if not.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Flag(help: "Check the history against the audit log's signed checkpoints and proofs.")
    var verify = false

    @Option(help: ArgumentHelp("The key service's identity key fingerprint to require (sha256:…).", valueName: "fingerprint"))
    var serverKey: String?

    @Argument(help: "A container whose record's history to show.", completion: .file(extensions: ["coffer"]))
    var container: String?

    func validate() throws {
        if verify && container == nil { throw ValidationError("--verify needs the container whose history to verify") }
    }

    func run() async throws {
        let (client, session, user) = try connection.session()
        let recordID = try container.map { try SecureFiles.recordID(ofContainer: $0) }
        guard verify, let recordID else {
            let answer = try await client.history(recordID: recordID, session: session)
            try output.emit(answer, lines: Self.table(answer.events, user: user))
            return
        }
        let identityKey = try await connection.verifyServer(client, expected: serverKey)
        let journal = AuditJournal(stateDirectory: connection.stateDirectory, server: client.server)
        let report = try await HistoryVerifier(service: client, session: session, journal: journal).verify(recordID: recordID, identityKey: identityKey)
        if let restore = report.restore { FileHandle.standardError.write(Data((restore.warning + "\n").utf8)) }
        if let old = report.checkpointKeyRotatedFrom {
            FileHandle.standardError.write(Data("note: the audit checkpoint key changed from \(DisplayText.terminal(old)); the identity key vouches for the new one, the checkpoint kept was checked under the old one, and the new one is pinned now\n".utf8))
        }
        let since = report.restore != nil ? "; the checkpoint verified before was superseded by the restore"
            : report.previousTreeSize.map { "; consistent with the checkpoint of \($0) entries verified before" } ?? "; first checkpoint kept for next time"
        try output.emit(report, lines: Self.table(report.events, user: user) + ["verified: \(report.events.count) entries are in the signed checkpoint of \(report.treeSize) entries of \(report.origin)\(since); \(report.journalEntries) acknowledged entries found" + (report.newerThanCheckpoint > 0 ? "; \(report.newerThanCheckpoint) newer entries are not yet in a checkpoint (verify again shortly)" : "")])
    }

    /// The events, one per line; an event another user made (under a grant of one of `user`'s
    /// records) names them.
    static func table(_ events: [HistoryEvent], user: String) -> [String] {
        if events.isEmpty { return ["no events"] }
        let formatter = ISO8601DateFormatter()
        return events.map { event in
            let time = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(event.time) / 1000))
            var line = "\(time)  \(event.kind.padding(toLength: 17, withPad: " ", startingAt: 0))"
            if let name = event.fileName { line += " \(name)" }
            if let id = event.recordID { line += " [\(id)]" }
            if event.user != user { line += " by \(event.user)" }
            line += " from \(event.source)"
            if !event.clientID.isEmpty { line += " client \(event.clientID.prefix(8))" }
            if !event.detail.isEmpty { line += " — \(event.detail)" }
            return line
        }
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List your records on the key service, newest first.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let (client, session, _) = try connection.session()
        let answer = try await client.records(session: session)
        let formatter = ISO8601DateFormatter()
        let lines = answer.records.map { r in
            let created = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(r.created) / 1000))
            let state = r.deleted ? "deleted" : (r.resealed != nil ? "re-sealed" : "active")
            let central = r.central.map { "central g\($0.generation) \(ByteCount.format($0.size))" } ?? "local only"
            return "\(created)  \(state.padding(toLength: 9, withPad: " ", startingAt: 0))  \(r.recordID)  \(r.size) B  \(central.padding(toLength: 22, withPad: " ", startingAt: 0))  \(r.fileName)"
        }
        try output.emit(answer, lines: lines.isEmpty ? ["no records"] : lines)
    }
}

struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Destroy a container's decode key on the key service (crypto-shredding).",
        discussion: "Afterwards no copy of the container can be opened, by anyone, and the record's central copy, if it has one, is destroyed too. The history keeps the deletion. The container file itself is left in place. Asks for confirmation on a terminal; give --yes in scripts."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The container whose record to delete.", completion: .file(extensions: ["coffer"]))
    var container: String

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    func run() async throws {
        let files = try connection.secureFiles(showProgress: false)
        if !yes {
            guard isatty(STDIN_FILENO) != 0 else {
                throw ClientError(.usage, "deleting destroys the decode key for good; confirm with --yes")
            }
            FileHandle.standardError.write(Data("Destroy the decode key of \(DisplayText.terminal(container))? No copy can be opened afterwards. Type yes: ".utf8))
            guard readLine()?.lowercased() == "yes" else { throw ClientError(.usage, "not deleted") }
        }
        let answer = try await files.delete(container: container)
        try output.emit(answer, text: "deleted record \(answer.recordID): its decode key is destroyed; \(container) can no longer be opened")
    }
}
