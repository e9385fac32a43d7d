import ArgumentParser
import CofferText
import CofferAdmin
import CofferAudit
import CofferDevice
import CofferKeys
import CofferZMQ
import Foundation
import Logging

/// `coffer-admin`: the operators' tool.
@main
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coffer-admin",
        abstract: "Operate a Coffer deployment.",
        subcommands: [Init.self, Users.self, Audit.self, Status.self, Keys.self, Backup.self, Restore.self]
    )
}

/// `coffer-admin init DIR`: creates every key a deployment needs, mode 0600, never overwriting.
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the keys of a new deployment, or the ones an existing deployment lacks.",
        discussion: """
            Writes, under DIR, each file that does not exist yet (existing keys are kept, never overwritten):
              transaction/signing.key.pem       receipt signing key (P-256, 0600)
              transaction/kek.b64               key-encryption key (AES-256, 0600)
              transaction/checkpoint.key        audit checkpoint signing key (Ed25519, 0600)
              transaction/checkpoint.vkey       its verifier key, for auditors and clients
              transaction/curve.secret          the transaction tier's CURVE key (0600)
              transaction/database-curve.public the database tier's CURVE public key
              database/curve.secret             the database tier's CURVE key (0600)
              database/allow.list               CURVE public keys admitted: transaction processes and coffer-admin
              admin/curve.secret                coffer-admin's CURVE key (0600), for `coffer-admin audit export`
              admin/database-curve.public       the database tier's CURVE public key
            TLS certificates are made separately (deploy/local does it with openssl).

            With --pkcs11-module, the transaction tier's keys go into a PKCS#11 token instead of the
            first three files: the KEK (coffer-kek), a decode-key wrapping key (coffer-wrap), the
            signing key (coffer-signing), the session-token key (coffer-session) and the checkpoint
            key (coffer-checkpoint), each sensitive and never extractable. Keys the token has are kept.
            With --import, an existing deployment's key files are imported instead of new keys made,
            so that its decode keys, sessions and checkpoints stay valid; move the files to offline
            backup afterwards. Either way transaction/signing.public.pem (for the TSA certificate)
            and transaction/checkpoint.vkey are written. docs/DEPLOYMENT.md, "A cryptographic device".
            """
    )

    @Argument(help: "The folder to create the keys in.")
    var directory: String

    @Option(help: "The audit log's origin, which names the checkpoint key (default coffer/audit).")
    var auditOrigin = "coffer/audit"

    @Option(help: "A PKCS#11 module (shared library) whose token gets the transaction tier's keys.")
    var pkcs11Module: String?

    @Option(help: "The token's label (with --pkcs11-module).")
    var tokenLabel = "coffer"

    @Option(help: "A file of mode 0600 holding the token's user PIN (with --pkcs11-module).")
    var tokenPinFile: String?

    @Flag(name: .customLong("import"), help: "Import the existing key files of DIR/transaction into the token instead of making new keys.")
    var importFiles = false

    func validate() throws {
        if pkcs11Module == nil && (tokenPinFile != nil || importFiles) {
            throw ValidationError("--token-pin-file and --import need --pkcs11-module")
        }
        if pkcs11Module != nil && tokenPinFile == nil { throw ValidationError("--pkcs11-module needs --token-pin-file") }
    }

    func run() throws {
        let transaction = directory + "/transaction"
        let database = directory + "/database"
        let admin = directory + "/admin"
        var made: [String] = []
        do {
            for folder in [directory, transaction, database, admin] {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            if let pkcs11Module, let tokenPinFile {
                try tokenKeys(module: pkcs11Module, pinFile: tokenPinFile, transaction: transaction)
            } else {
                try fileKeys(transaction: transaction, made: &made)
            }
            var allowed: [String] = []
            let databaseSecret = database + "/curve.secret"
            let databasePublic: String
            if exists(databaseSecret) {
                databasePublic = try CurveKeyFile.readKeyPair(at: databaseSecret).publicKey
            } else {
                let pair = try CurveKeyPair.generate()
                try SecretFile.create(databaseSecret, contents: Array((pair.secretKey + "\n").utf8))
                databasePublic = pair.publicKey
                made.append(databaseSecret)
            }
            for (folder, comment) in [(transaction, "the transaction processes"), (admin, "coffer-admin")] where !exists(folder + "/curve.secret") {
                let pair = try CurveKeyPair.generate()
                try SecretFile.create(folder + "/curve.secret", contents: Array((pair.secretKey + "\n").utf8))
                allowed.append("# \(comment)\n\(pair.publicKey)\n")
                made.append(folder + "/curve.secret")
            }
            for folder in [transaction, admin] where !exists(folder + "/database-curve.public") {
                try write(folder + "/database-curve.public", databasePublic + "\n")
            }
            if !allowed.isEmpty {
                let list = database + "/allow.list"
                let existing = (try? String(contentsOfFile: list, encoding: .utf8)) ?? "# CURVE public keys admitted by the database tier\n"
                try Data((existing + allowed.joined()).utf8).write(to: URL(fileURLWithPath: list))
            }
        } catch {
            FileHandle.standardError.write(Data("coffer-admin: \(error)\n".utf8))
            throw ExitCode(73)
        }
        print(made.isEmpty ? "every key exists under \(directory); nothing was changed" : "created under \(directory): " + made.map { String($0.dropFirst(directory.count + 1)) }.joined(separator: ", "))
    }

    private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// The transaction tier's keys as files: the signing key, the KEK and the checkpoint key.
    private func fileKeys(transaction: String, made: inout [String]) throws {
        let signing = transaction + "/signing.key.pem", kek = transaction + "/kek.b64"
        switch (exists(signing), exists(kek)) {
        case (false, false):
            _ = try ServerKeys.generate(signingKeyFile: signing, kekFile: kek)
            made += [signing, kek]
        case (true, true): break
        default: throw KeyFileError("only one of \(signing) and \(kek) exists; restore the other from backup")
        }
        if !exists(transaction + "/checkpoint.key") {
            try CheckpointKey.generate(transaction + "/checkpoint.key", vkeyPath: transaction + "/checkpoint.vkey", origin: auditOrigin)
            made.append(transaction + "/checkpoint.key")
        }
    }

    /// The transaction tier's keys in a token; prints each by label and id.
    private func tokenKeys(module: String, pinFile: String, transaction: String) throws {
        let pin = try SecretFile.readPIN(pinFile)
        let token: Token
        do {
            token = try Token(modulePath: module, label: tokenLabel, pin: pin, sessions: 1)
        } catch let error as DeviceError {
            throw KeyFileError(error.description)
        }
        let lines = try TokenKeySetup(token: token, transactionFolder: transaction).run(importFiles: importFiles, auditOrigin: auditOrigin)
        print("token \"\(tokenLabel)\" (\(module)):")
        for line in lines { print("  " + line.description) }
        if importFiles {
            print("the key files signing.key.pem, kek.b64 and checkpoint.key under \(transaction) are in the token now; move them to offline backup")
        }
    }

    private func write(_ path: String, _ text: String) throws {
        guard !exists(path) else { throw KeyFileError("\(path) exists; refusing to overwrite it") }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }
}

/// `coffer-admin audit export|verify`.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export the audit history and verify an export offline (docs/AUDIT.md).",
        subcommands: [Export.self, Verify.self]
    )

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the whole audit log, its signed checkpoints and proofs into a new folder.",
            discussion: "Talks to the database tier over ZeroMQ with the operator's CURVE key (KEYS/admin). The export is itself audited."
        )

        @Argument(help: "A new or empty folder to write the export to.")
        var directory: String
        @OptionGroup var connection: DatabaseTierOptions

        func run() async throws {
            let logger = Logger(label: "coffer-admin")
            do {
                let exporter = try AuditExporter(keysDirectory: connection.keys, endpoint: connection.database, timeout: connection.requestTimeout, logger: logger)
                let summary = try await exporter.export(to: directory, operatorName: operatorName)
                print("exported \(summary.entries) entries and \(summary.checkpoints) checkpoints to \(directory); check it with `coffer-admin audit verify \(directory)`")
            } catch {
                FileHandle.standardError.write(Data("coffer-admin: audit export failed: \(error)\n".utf8))
                throw ExitCode(69)
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check an audit export offline: every entry, checkpoint signature and proof.",
            discussion: """
                Exits 0 when the export verifies, 65 when anything is wrong (each problem is printed), 66 when the
                export cannot be read. Give the checkpoint key you trust with --key (the export's own log.vkey is used
                otherwise, with a warning), and checkpoints you kept from before with --known, so that a log rewritten
                together with its stored checkpoints is caught too.
                """
        )

        @Argument(help: "The export folder.")
        var directory: String
        @Option(help: "A checkpoint verifier key file you trust (name+hash+base64); repeat for each key of a rotation, newest first.")
        var key: [String] = []
        @Option(help: "A signed checkpoint you kept from before; repeat for several.")
        var known: [String] = []
        @Flag(help: "Print the report as JSON.")
        var json = false

        func run() throws {
            let report: AuditExportVerifier.Report
            do {
                if key.isEmpty {
                    FileHandle.standardError.write(Data("coffer-admin: warning: no --key given; trusting the export's own log.vkey\n".utf8))
                }
                let keyFiles = key.isEmpty ? ["\(directory)/\(AuditExportLayout.verifierKey)"] : key
                let verifiers = try keyFiles.map { try NoteVerifier(parsing: try String(contentsOfFile: $0, encoding: .utf8)) }
                let notes = try known.map { try String(contentsOfFile: $0, encoding: .utf8) }
                report = try AuditExportVerifier.verify(directory: directory, verifiers: verifiers, known: notes)
            } catch {
                FileHandle.standardError.write(Data("coffer-admin: cannot verify \(directory): \(error)\n".utf8))
                throw ExitCode(66)
            }
            if json {
                try printJSON(report)
            } else if report.ok {
                let pending = report.uncovered > 0 ? "; \(report.uncovered) newer entries are not yet covered by a checkpoint" : ""
                print("verified: \(report.entries) entries, \(report.checkpoints.count) signed checkpoints consistent with each other and the entries\(pending)")
            } else {
                print("THE AUDIT HISTORY DOES NOT VERIFY (\(report.problems.count) problems):")
                for problem in report.problems { print("  - \(DisplayText.terminal(problem))") }
            }
            if !report.ok { throw ExitCode(65) }
        }
    }
}
