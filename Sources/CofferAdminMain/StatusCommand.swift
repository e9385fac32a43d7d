import ArgumentParser
import CofferAdmin
import CofferText
import Foundation
import Logging

/// `coffer-admin status`: the deployment at a glance, for a person or an alerting script.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show whether the deployment is healthy: both tiers, the store, the audit log and the keys in use.",
        discussion: """
            Asks the database tier over ZeroMQ with the operator's CURVE key (the store, its replication, the audit
            log and its newest checkpoint) and each transaction process named with --transaction at its metrics
            listener's GET /status (readiness, audit state, its newest checkpoint, its key backend, identity key and
            checkpoint key). Prints one line per component, or --json.
            Exits 0 when everything is ok, 1 on a warning (a stale checkpoint, processes on different keys), 2 when
            something is critical (a tier unreachable or not ready, the audit log failing or inconsistent, the
            store a read-only standby): the convention of monitoring plugins.
            """
    )

    @OptionGroup var connection: DatabaseTierOptions
    @Option(name: .customLong("transaction"), help: "A transaction process's metrics listener, HOST:PORT; repeat for each.")
    var transactions: [String] = []
    @Option(help: "Seconds a checkpoint may be older than newer entries before it is a warning.")
    var staleCheckpointSeconds = 600
    @Flag(help: "Print the status as JSON.")
    var json = false

    func run() async throws {
        let status = await DeploymentStatus.probe(
            keysDirectory: connection.keys, database: connection.database, transactions: transactions,
            staleCheckpoint: .seconds(max(1, staleCheckpointSeconds)), timeout: .seconds(max(1, min(connection.timeout, 10))),
            nowMs: Int64(Date().timeIntervalSince1970 * 1000), logger: Logger(label: "coffer-admin")
        )
        if json {
            try printJSON(Report(level: status.level, status: status))
        } else {
            let width = status.checks.map(\.component.count).max() ?? 0
            for check in status.checks {
                print("\(check.component.padding(toLength: width, withPad: " ", startingAt: 0))  \(check.level.rawValue.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0))  \(DisplayText.terminal(check.detail))")
            }
            if transactions.isEmpty { print("(no --transaction given: the transaction processes were not checked)") }
        }
        if status.level != .ok { throw ExitCode(status.level.exitCode) }
    }

    /// The JSON form: the overall level first.
    struct Report: Encodable {
        let level: DeploymentStatus.Level
        let status: DeploymentStatus
    }
}
