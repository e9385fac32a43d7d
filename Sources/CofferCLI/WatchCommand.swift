import ArgumentParser
import CofferClient
import CofferText
import Foundation

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Secure-save the files of a folder whenever they change, or on a schedule; with --retrieve, keep working copies of your central copies current in it.",
        discussion: """
            Each file F in DIR (not in subfolders; hidden files and containers skipped) is saved to F.coffer \\
            once it has been quiet for --debounce seconds after a change, and at start-up if its container is \\
            missing or older. With --every, files changed since their last save are also saved on that schedule. \\
            One log line per save. Stop with Ctrl-C. If the session expires, run `coffer login` in another \\
            terminal: the watch picks the new session up.

            With --retrieve, the other way: every --every (default 1m), DIR is brought up to date with the central \
            copies of your records (DIR/NAME, the newest record of each name) and of those shared with you \
            (DIR/from-OWNER/NAME). A record is retrieved when its content changed — a new save — not after a mere \
            re-seal, so several installations may watch the same records. A working copy changed here since it was \
            retrieved, or a file the watch did not write, is never replaced. Each retrieve is audited and re-sealed \
            like any other.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The folder to watch.", completion: .directory)
    var directory: String

    @Option(help: ArgumentHelp("Seconds a changed file must stay unchanged before it is saved.", valueName: "seconds"))
    var debounce: Double = 2

    @Option(help: ArgumentHelp("Also save on a schedule (with --retrieve: how often to look): a number with s, m, h or d, for example 15m.", valueName: "interval"))
    var every: String?

    @Flag(help: "Keep working copies of your central copies, and of those shared with you, current in the folder.")
    var retrieve = false

    func validate() throws {
        guard debounce >= 0, debounce <= 3600 else { throw ValidationError("--debounce must be between 0 and 3600 seconds") }
        if let every, TimeSpan.parse(every) == nil {
            throw ValidationError("--every takes a number with s, m, h or d, for example 30s or 15m")
        }
    }

    func run() async throws {
        _ = try connection.secureFiles(showProgress: false)
        let connection = self.connection
        if retrieve {
            let retriever = AutoRetriever(
                directory: URL(fileURLWithPath: directory).standardizedFileURL.path,
                log: Self.log,
                files: { try connection.secureFiles(showProgress: false) }
            )
            try await retriever.run(every: every.flatMap(TimeSpan.parse) ?? .seconds(60))
            return
        }
        let saver = AutoSaver(
            directory: URL(fileURLWithPath: directory).standardizedFileURL.path,
            log: Self.log,
            files: { try connection.secureFiles(showProgress: false) }
        )
        try await saver.run(debounce: .milliseconds(Int(debounce * 1000)), every: every.flatMap(TimeSpan.parse))
    }

    /// One line of the watch's log, with its time, escaped for the terminal.
    @Sendable static func log(_ line: String) {
        let time = Date().formatted(.iso8601)
        FileHandle.standardOutput.write(Data("\(time)  \(DisplayText.terminal(line))\n".utf8))
    }
}
