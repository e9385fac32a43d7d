import ArgumentParser
import CofferAPI
import CofferClient
import Foundation

/// The deployment's CA certificate, for offline checks.
struct CAOption: ParsableArguments {
    @Option(help: ArgumentHelp("The deployment's CA certificate, PEM (default: $COFFER_CA).", valueName: "file"))
    var ca: String?

    func resolved() throws -> String {
        guard let ca = ca ?? ProcessInfo.processInfo.environment["COFFER_CA"], !ca.isEmpty else {
            throw ClientError(.configuration, "no CA certificate given: use --ca FILE or set COFFER_CA")
        }
        return ca
    }
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a container's receipt offline: that it belongs to the container and is time-stamped by the key service.",
        discussion: "Needs only the deployment's CA certificate; the key service is not contacted and nothing is decrypted. Exit 0 when the receipt verifies, 65 when it does not."
    )

    @OptionGroup var ca: CAOption
    @OptionGroup var output: OutputOptions

    @Argument(help: "The container to check.", completion: .file(extensions: ["coffer"]))
    var container: String

    func run() async throws {
        let (_, receipt) = try ReceiptCheck.read(container: container)
        let verified = try ReceiptCheck.verify(receipt, caFile: try ca.resolved())
        let when = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(verified.timestamp) / 1000))
        try output.emit(verified, lines: [
            "\(container): receipt verified",
            "  file      \(verified.fileName), \(verified.size) bytes",
            "  sha256    \(verified.sha256)",
            "  saved     \(when) by \(verified.owner) (client \(verified.clientID))",
            "  record    \(verified.recordID)",
        ])
    }
}

struct ExportReceipt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipt",
        abstract: "Write a container's receipt so that anyone can check it with openssl, without Coffer.",
        discussion: """
            Writes receipt.json, receipt.dat (the time-stamped bytes) and receipt.tst (the RFC 3161 token) to DIR. Then:
              openssl ts -verify -data DIR/receipt.dat -in DIR/receipt.tst -token_in -CAfile CA.pem
            """
    )

    @OptionGroup var output: OutputOptions

    @Argument(help: "The container whose receipt to write.", completion: .file(extensions: ["coffer"]))
    var container: String

    @Option(help: ArgumentHelp("The folder to write to.", valueName: "dir"))
    var out: String

    func run() async throws {
        let (_, receipt) = try ReceiptCheck.read(container: container)
        let files = try ReceiptCheck.export(receipt, to: out)
        struct Result: Encodable { let files: [String]; let command: String }
        let command = "openssl ts -verify -data \(out)/receipt.dat -in \(out)/receipt.tst -token_in -CAfile CA.pem"
        try output.emit(Result(files: files, command: command), lines: ["wrote \(files.joined(separator: ", "))", "check it with: \(command)"])
    }
}
