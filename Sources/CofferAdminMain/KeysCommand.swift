import ArgumentParser
import CofferAdmin
import CofferKeys
import CofferText
import Foundation
import Logging

/// `coffer-admin keys new-kek|status`: the operator's side of a KEK rotation.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rotate the key-encryption key: make a new one, and follow the decode keys moving to it.",
        discussion: """
            A rotation without downtime (docs/DEPLOYMENT.md, "Rotating the KEK"):
              1. coffer-admin keys new-kek NEW.b64
              2. restart every transaction process, one at a time, with kek-unwrap-only NEW.b64 (it opens keys
                 under the new KEK but wraps none, so any process opens what any other wraps)
              3. restart each again with kek NEW.b64 and kek-unwrap-only OLD.b64: new keys go under NEW, and
                 the processes move the old keys to it in the background, in audited batches
              4. when `coffer-admin keys status` shows no key under OLD, restart without it; keep OLD offline
                 until the backups made before the rotation have expired
            """,
        subcommands: [NewKEK.self, NewCheckpointKey.self, NewIdentityKey.self, KeyStatus.self]
    )

    struct NewIdentityKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new-identity-key",
            abstract: "Create a new identity and receipt signing key and the current key's statement that it takes over at a set moment.",
            discussion: """
                Writes FILE (mode 0600, never overwritten) and its statement beside it (….rotation.json, public). Then
                (docs/DEPLOYMENT.md, "Rotating the identity key"):
                  1. have the deployment's CA issue FILE's key a time-stamping certificate, as for the current key
                  2. restart every transaction process, one at a time and all before the moment, with signing-key-next FILE,
                     tsa-cert-next CERT and identity-rotation-next STATEMENT: each still signs with the current key, and all
                     switch to the new one at the moment the statement names
                  3. afterwards, restart with signing-key FILE, tsa-cert CERT and identity-rotation STATEMENT (keep every
                     earlier statement too), and keep the old key offline or destroy it
                Clients that pinned the current key move to the new one through the statement; receipts signed by the old
                key still verify against the CA certificate.
                """
        )

        @Option(help: "The identity key in force now (its signing-key file), which signs the statement.")
        var current: String
        @Option(help: ArgumentHelp("When the new key takes over: an ISO 8601 time (2027-01-05T03:00:00Z).", valueName: "time"))
        var at: String?
        @Option(help: ArgumentHelp("When the new key takes over: this many minutes from now (0: at once, after a compromise).", valueName: "minutes"))
        var inMinutes: Int?
        @Argument(help: "The new identity key file (…/signing-2.key.pem).")
        var file: String

        func validate() throws {
            guard (at == nil) != (inMinutes == nil) else { throw ValidationError("give one of --at and --in-minutes: when the new key takes over") }
            if let inMinutes, !(0...525_600).contains(inMinutes) { throw ValidationError("--in-minutes is 0 to 525600 (a year)") }
            if let at, ISO8601DateFormatter().date(from: at) == nil { throw ValidationError("--at takes an ISO 8601 time such as 2027-01-05T03:00:00Z, not '\(at)'") }
        }

        func run() throws {
            let now = Date()
            let moment = at.flatMap { ISO8601DateFormatter().date(from: $0) } ?? now.addingTimeInterval(Double(inMinutes ?? 0) * 60)
            guard moment.timeIntervalSince(now) > -60 else {
                FileHandle.standardError.write(Data("coffer-admin: \(at ?? "") is in the past; a rotation takes over now or later\n".utf8))
                throw ExitCode(64)
            }
            do {
                let made = try IdentityKeyRotation.make(currentKeyFile: current, newKeyFile: file, fromMs: Int64(moment.timeIntervalSince1970 * 1000))
                print("""
                    created \(file): identity key \(made.nextFingerprint)
                    created \(made.statementFile): \(made.previousFingerprint) hands over to it at \(moment.formatted(.iso8601))
                    next: have the CA issue a time-stamping certificate for it, e.g.
                      openssl req -new -key \(file) -subj "/CN=Coffer time-stamping" -out \(file).csr
                      (with extendedKeyUsage=critical,timeStamping, as the current key's)
                    """)
            } catch {
                FileHandle.standardError.write(Data("coffer-admin: \(error)\n".utf8))
                throw ExitCode(73)
            }
        }
    }

    struct NewCheckpointKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new-checkpoint-key",
            abstract: "Create a new audit checkpoint key (mode 0600, never overwritten) and its verifier key beside it.",
            discussion: """
                Writes FILE and FILE's .vkey. Rotate (docs/DEPLOYMENT.md, "Rotating keys"): restart each transaction process
                with checkpoint-key FILE and checkpoint-key-previous naming the old .vkey. The identity key vouches for the
                new key in every checkpoint answer, so clients move to it and keep checking their kept checkpoints.
                """
        )

        @Argument(help: "The new checkpoint key file (…/checkpoint-2.key).")
        var file: String
        @Option(help: "The audit log's origin, which names the key; the same as the old key's (default coffer/audit).")
        var auditOrigin = "coffer/audit"

        func run() throws {
            let vkey = (file.hasSuffix(".key") ? String(file.dropLast(4)) : file) + ".vkey"
            do {
                try CheckpointKey.generate(file, vkeyPath: vkey, origin: auditOrigin)
                print("created \(file) and its verifier key \(vkey): \((try? String(contentsOfFile: vkey, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")")
            } catch {
                FileHandle.standardError.write(Data("coffer-admin: \(error)\n".utf8))
                throw ExitCode(73)
            }
        }
    }

    struct NewKEK: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "new-kek", abstract: "Create a new KEK file (mode 0600, never overwritten) and print its id.")

        @Argument(help: "The new KEK file.")
        var file: String

        func run() throws {
            do {
                let kek = try ServerKeys.generateKEK(file)
                print("created \(file): KEK \(ServerKeys.kekIDText(kek))")
            } catch {
                FileHandle.standardError.write(Data("coffer-admin: \(error)\n".utf8))
                throw ExitCode(73)
            }
        }
    }

    struct KeyStatus: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Count the decode keys under each KEK, through the database tier.",
            discussion: "Forms: kek:ID (a KEK's id, as the transaction tier logs it), kek-v1 (key files of an earlier release, not yet tagged), device (a token's). Exits 0."
        )

        @OptionGroup var connection: DatabaseTierOptions
        @Flag(help: "Print the counts as JSON.")
        var json = false

        func run() async throws {
            let counts: [(form: String, count: Int64)]
            do {
                counts = try await WrappedKeyInventory.counts(keysDirectory: connection.keys, endpoint: connection.database,
                                                              timeout: connection.requestTimeout, logger: Logger(label: "coffer-admin"))
            } catch {
                FileHandle.standardError.write(Data("coffer-admin: cannot count the wrapped keys: \(DisplayText.terminal("\(error)"))\n".utf8))
                throw ExitCode(69)
            }
            if json {
                let object = Dictionary(uniqueKeysWithValues: counts.map { ($0.form, $0.count) })
                try printJSON(object)
            } else if counts.isEmpty {
                print("no decode keys are stored")
            } else {
                for (form, count) in counts { print("\(form.padding(toLength: 24, withPad: " ", startingAt: 0)) \(count)") }
            }
        }
    }
}
