import CofferDatabase
import CofferServerSupport
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `coffer-database`: reads its settings (``DatabaseSettings``) and runs the tier until SIGTERM or SIGINT.
@main
enum DatabaseCommand {
    static func main() async {
        let configuration = DatabaseSettings.reader.configurationOrExit(defaults: DatabaseTierConfiguration())
        guard configuration.grantTo == nil || configuration.migrateOnly else {
            FileHandle.standardError.write(Data("coffer-database: --grant-to goes with --migrate-only\n".utf8))
            exit(64)
        }
        JSONLogHandler.bootstrap(level: Logger.Level(rawValue: configuration.logLevel) ?? .info)
        // Without a metrics listener nothing would read them: swift-metrics stays a no-op.
        if configuration.metricsEndpoint != nil { ServerMetrics.bootstrap(valueBuckets: DatabaseMetrics.buckets) }
        let logger = Logger(label: "coffer-database")
        do {
            if configuration.migrateOnly {
                let version = try DatabaseTier.migrate(configuration: configuration, grantTo: configuration.grantTo)
                print("the schema is at version \(version)" + (configuration.grantTo.map { "; granted the tier's rights to \($0)" } ?? ""))
                return
            }
            let tier = try DatabaseTier(configuration: configuration, logger: logger)
            try await ServiceGroup(services: [tier], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger).run()
        } catch {
            logger.critical("cannot start", metadata: ["coffer.error": "\(error)"])
            FileHandle.standardError.write(Data("coffer-database: \(error)\n".utf8))
            exit(78)
        }
    }
}
