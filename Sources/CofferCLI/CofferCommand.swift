import ArgumentParser
import CofferClient
import Foundation

/// `coffer`: the client. Exit statuses are listed in `coffer --help` and docs/PROTOCOL.md.
struct CofferCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coffer",
        abstract: "Keep files encrypted under a key service that decides, live, who may open them.",
        discussion: """
            Set up once:   eval "$(deploy/local env)"   (or pass --server, --ca, --user)
                           coffer register && coffer login
            Then:          coffer save report.pdf          → report.pdf.coffer
                           coffer retrieve report.pdf.coffer → report.pdf
                           coffer history report.pdf.coffer

            Environment: COFFER_SERVER (HOST:PORT), COFFER_CA (CA certificate, PEM), COFFER_USER,
            COFFER_HOME (state folder; default ~/.config/coffer).

            Exit statuses: 0 success; 64 bad arguments; 65 damaged, altered or foreign container;
            66 input missing; 69 key service unreachable or busy; 70 unexpected answer;
            73 output exists or cannot be created; 74 read/write failure; 75 name taken;
            77 login failed, not logged in, or request refused; 78 server, CA or user not configured.
            """,
        subcommands: [Register.self, Login.self, Save.self, Retrieve.self, History.self]
    )
}

@main
enum Main {
    static func main() async {
        do {
            var command = try CofferCommand.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ClientError {
            FileHandle.standardError.write(Data("coffer: \(error.message)\n".utf8))
            exit(error.code.exitStatus)
        } catch {
            CofferCommand.exit(withError: error)
        }
    }
}
