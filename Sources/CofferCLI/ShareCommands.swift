import ArgumentParser
import CofferAPI
import CofferClient
import CofferText
import Foundation

struct Share: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Let another registered user retrieve one of your records, until a time or until you revoke it.",
        discussion: """
            RECORD is a container, a record id, or the file name of one of your records. The grantee retrieves it \\
            like you do (`coffer retrieve --central NAME` for its central copy, or a container you give them); each \\
            of their accesses is audited under their name and shown in your history. A retrieve by either of you \\
            re-seals the record, so use a central copy to keep both of you current. Sharing again sets a new end. \\
            `coffer unshare` ends the grant at once, for sessions already open too.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The container, record id or file name of the record to share.", completion: .file(extensions: ["coffer"]))
    var record: String

    @Option(name: .customLong("with"), help: ArgumentHelp("The registered user to share it with.", valueName: "user"))
    var grantee: String

    @Option(help: ArgumentHelp("When the grant ends: a time (2026-12-31T18:00:00Z, or a date, meaning its start in UTC) or a span from now (30m, 12h, 7d). Default: until revoked.", valueName: "time"))
    var until: String?

    func validate() throws {
        if let until, GrantEnd.parse(until, now: Date()) == nil {
            throw ValidationError("--until takes a time such as 2026-12-31T18:00:00Z or 2026-12-31, or a span such as 30m, 12h or 7d")
        }
    }

    func run() async throws {
        let files = try connection.secureFiles(showProgress: false)
        let expires = until.flatMap { GrantEnd.parse($0, now: Date()) }.map { Int64($0.timeIntervalSince1970 * 1000) }
        let answer = try await files.share(record, with: grantee, expires: expires)
        let end = expires.map { "until " + GrantEnd.format($0) } ?? "until you revoke it"
        try output.emit(answer, text: "shared record \(answer.recordID) with \(answer.grantee) \(end)")
    }
}

struct Unshare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Revoke a grant at once: the user can no longer retrieve the record, even in a session already open.",
        discussion: "A copy the grantee already opened stays with them; every later request on the record is refused and audited."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The container, record id or file name of the shared record.", completion: .file(extensions: ["coffer"]))
    var record: String

    @Option(name: .customLong("with"), help: ArgumentHelp("The user whose grant to revoke.", valueName: "user"))
    var grantee: String

    func run() async throws {
        let files = try connection.secureFiles(showProgress: false)
        let answer = try await files.unshare(record, with: grantee)
        try output.emit(answer, text: "revoked \(answer.grantee)'s grant of record \(answer.recordID)")
    }
}

struct Shared: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the records others shared with you, and those you shared.",
        discussion: "Only live grants are listed: neither revoked nor past their end. Retrieve a shared record's central copy with `coffer retrieve --central RECORD-ID`."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let files = try connection.secureFiles(showProgress: false)
        let grants = try await files.grants()
        let user = try connection.resolvedUser()
        let withMe = grants.filter { $0.grantee == user }
        let byMe = grants.filter { $0.owner == user }
        let line = { (g: GrantInfo, who: String) -> String in
            let end = g.expires.map { "until " + GrantEnd.format($0) } ?? "until revoked"
            let central = g.central.map { "central g\($0.generation) \(ByteCount.format($0.size))" } ?? "no central copy"
            return "  \(g.recordID)  \(who.padding(toLength: 16, withPad: " ", startingAt: 0))  \(central.padding(toLength: 22, withPad: " ", startingAt: 0))  \(end)  \(g.fileName)"
        }
        var lines = ["shared with you:"] + (withMe.isEmpty ? ["  nothing"] : withMe.map { line($0, "from " + $0.owner) })
        lines += ["shared by you:"] + (byMe.isEmpty ? ["  nothing"] : byMe.map { line($0, "with " + $0.grantee) })
        try output.emit(GrantsResponse(grants: grants), lines: lines)
    }
}
