import ArgumentParser
import CofferTransaction
import CofferZMQ
import Foundation

/// `coffer-admin`: the operators' tool.
@main
struct AdminCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coffer-admin",
        abstract: "Operate a Coffer deployment.",
        subcommands: [Init.self]
    )
}

/// `coffer-admin init DIR`: creates every key a deployment needs, mode 0600, never overwriting.
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the keys of a new deployment.",
        discussion: """
            Writes, under DIR:
              transaction/signing.key.pem       receipt signing key (P-256, 0600)
              transaction/kek.b64               key-encryption key (AES-256, 0600)
              transaction/curve.secret          the transaction tier's CURVE key (0600)
              transaction/database-curve.public the database tier's CURVE public key
              database/curve.secret             the database tier's CURVE key (0600)
              database/allow.list               CURVE public keys of admitted transaction processes
            Refuses to overwrite existing keys. TLS certificates are made separately (deploy/local does it with openssl).
            """
    )

    @Argument(help: "The folder to create the keys in.")
    var directory: String

    func run() throws {
        let transaction = directory + "/transaction"
        let database = directory + "/database"
        do {
            for folder in [directory, transaction, database] {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            _ = try ServerKeys.generate(signingKeyFile: transaction + "/signing.key.pem", kekFile: transaction + "/kek.b64")
            let transactionCurve = try CurveKeyPair.generate()
            let databaseCurve = try CurveKeyPair.generate()
            try SecretFile.create(transaction + "/curve.secret", contents: Array((transactionCurve.secretKey + "\n").utf8))
            try SecretFile.create(database + "/curve.secret", contents: Array((databaseCurve.secretKey + "\n").utf8))
            try write(transaction + "/database-curve.public", databaseCurve.publicKey + "\n")
            try write(database + "/allow.list", "# CURVE public keys of the transaction processes admitted\n\(transactionCurve.publicKey)\n")
        } catch {
            FileHandle.standardError.write(Data("coffer-admin: \(error)\n".utf8))
            throw ExitCode(73)
        }
        print("created the deployment keys under \(directory)")
    }

    private func write(_ path: String, _ text: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw TransactionTierError("\(path) exists; refusing to overwrite it")
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }
}
