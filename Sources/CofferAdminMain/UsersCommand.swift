import ArgumentParser
import CofferText
import CofferAdmin
import CofferWire
import Foundation
import Logging

/// `coffer-admin users list|lock|unlock`.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List accounts; lock or unlock one.",
        discussion: """
            A locked account cannot log in, and sessions issued before the lock get nothing more: no decode \
            key, no save, no delete, no list, history or proof. Use it when a laptop is lost or an account \
            is misused. Unlocking also clears a lockout after failed logins, and the sessions open when the \
            lock came stay ended: the user logs in again. Each lock and unlock is \
            audited (kind `admin`, with the operator as source). Talks to the database tier over ZeroMQ with \
            the operator's CURVE key (KEYS/admin). Exit statuses: 0 done, 67 no such user, 69 the database \
            tier cannot be reached or refused.
            """,
        subcommands: [List.self, Lock.self, Unlock.self]
    )

    static func fail(_ what: String, _ error: any Error) -> ExitCode {
        FileHandle.standardError.write(Data("coffer-admin: \(what): \(error)\n".utf8))
        return ExitCode((error as? AdminError)?.unknownUser == true ? 67 : 69)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every account: locks, failed logins, records and installations.")
        @OptionGroup var connection: DatabaseTierOptions
        @Flag(help: "Print JSON lines, one account each.")
        var json = false

        func run() async throws {
            let users: [Coffer_Wire_V1_UserSummary]
            do {
                users = try await connection.accounts().users()
            } catch {
                throw Users.fail("cannot list the accounts", error)
            }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            if !json { print("user                              state          failed  records  installations") }
            for u in users {
                let state = u.locked ? "locked" : (u.lockedUntilUnixMs > now ? "locked-out" : "active")
                if json {
                    let object: [String: Any] = [
                        "user": u.name, "created": u.createdUnixMs, "locked": u.locked, "lockedUntil": u.lockedUntilUnixMs,
                        "failedLogins": u.failedLogins, "records": u.records, "installations": u.devices,
                    ]
                    print(DisplayText.escapingJSON(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)))
                } else {
                    let name = DisplayText.terminal(u.name)
                    print(name.padding(toLength: max(34, name.count + 1), withPad: " ", startingAt: 0)
                          + state.padding(toLength: 15, withPad: " ", startingAt: 0)
                          + String(format: "%6lld  %7lld  %13lld", u.failedLogins, u.records, u.devices))
                }
            }
        }
    }

    struct Lock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lock an account at once, its open sessions included.")
        @Argument(help: "The user name.")
        var user: String
        @Option(help: "Why, for the audit history (at most 512 bytes).")
        var reason = ""
        @OptionGroup var connection: DatabaseTierOptions

        func run() async throws { try await Users.setLock(user, locked: true, reason: reason, connection) }
    }

    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Unlock an account, and clear a lockout after failed logins.")
        @Argument(help: "The user name.")
        var user: String
        @Option(help: "Why, for the audit history (at most 512 bytes).")
        var reason = ""
        @OptionGroup var connection: DatabaseTierOptions

        func run() async throws { try await Users.setLock(user, locked: false, reason: reason, connection) }
    }

    static func setLock(_ user: String, locked: Bool, reason: String, _ connection: DatabaseTierOptions) async throws {
        let verb = locked ? "lock" : "unlock"
        do {
            let index = try await connection.accounts().setLocked(user, locked: locked, reason: reason, operatorName: operatorName)
            print("\(verb)ed \(user) (audit entry \(index))")
        } catch {
            throw fail("cannot \(verb) \(user)", error)
        }
    }
}

/// Where the database tier is and the operator's keys, for the commands that talk to it.
struct DatabaseTierOptions: ParsableArguments {
    @Option(help: "The folder `coffer-admin init` made.")
    var keys = "keys"
    @Option(help: "The database tier's endpoint.")
    var database = "tcp://127.0.0.1:7701"
    @Option(help: "Seconds one request may take.")
    var timeout = 30

    var requestTimeout: Duration { .seconds(max(1, timeout)) }

    func accounts() throws -> AccountAdministrator {
        try AccountAdministrator(keysDirectory: keys, endpoint: database, timeout: requestTimeout, logger: Logger(label: "coffer-admin"))
    }
}

/// Who runs the command, for the audit entries it causes.
var operatorName: String {
    "\(ProcessInfo.processInfo.environment["USER"] ?? "operator")@\(ProcessInfo.processInfo.hostName)"
}
