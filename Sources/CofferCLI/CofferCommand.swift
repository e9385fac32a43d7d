import ArgumentParser
import CofferClient
import CofferText
import Foundation

/// `coffer`: the client. Exit statuses are listed in `coffer --help` and docs/PROTOCOL.md.
struct CofferCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coffer",
        abstract: "Keep files encrypted under a key service that decides, live, who may open them.",
        discussion: """
            Set up once:  eval "$(deploy/local env)"  (or --server, --ca, --user)
                          coffer register && coffer login
            Then:         coffer save report.pdf             -> report.pdf.coffer
                          coffer retrieve report.pdf.coffer  -> report.pdf
                          coffer history report.pdf.coffer
            When done:    coffer logout   (--everywhere: every installation of yours)

            Environment:
              COFFER_SERVER   the key service, HOST:PORT
              COFFER_CA       the deployment's CA certificate (PEM)
              COFFER_USER     your user name
              COFFER_HOME     state folder (default ~/.config/coffer)
              COFFER_TIMEOUT  seconds to wait for an answer (default 9)
              COFFER_SERVER_KEY  the key service identity fingerprint to require

            Exit statuses:
              0   success
              64  bad arguments
              65  damaged, altered or foreign container; content mismatch
              66  input missing or not a regular file
              69  key service unreachable, busy or degraded
              70  unexpected answer from the key service
              73  output exists (use --force) or cannot be created
              74  read or write failure
              75  user name taken
              77  wrong password, not logged in, or request refused
              78  server, CA certificate or user not configured
            """,
        subcommands: [Register.self, Login.self, Logout.self, ChangePassword.self, Save.self, Push.self, Retrieve.self, History.self, List.self, Delete.self, Share.self, Unshare.self, Shared.self, Verify.self, ExportReceipt.self, Watch.self, Web.self]
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
            // A writer thread may still hold an output; it is removed here, not left behind.
            SecureFiles.discardUnfinishedOutputs()
            Terminal.warn(error.message)
            exit(error.code.exitStatus)
        } catch {
            SecureFiles.discardUnfinishedOutputs()
            CofferCommand.exit(withError: error)
        }
    }
}

/// Lines on standard error, escaped for the terminal: messages carry file names and the key
/// service's words.
enum Terminal {
    /// Writes `coffer: MESSAGE` on one line.
    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("coffer: \(DisplayText.terminal(message))\n".utf8))
    }
}
