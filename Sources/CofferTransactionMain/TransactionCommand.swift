import CofferServerSupport
import CofferTransaction
import Foundation
import Logging

/// `coffer-transaction`: reads its settings (``TransactionSettings``) and runs the tier.
@main
enum TransactionCommand {
    static func main() async {
        let configuration = TransactionSettings.reader.configurationOrExit(defaults: TransactionTierConfiguration())
        JSONLogHandler.bootstrap(level: Logger.Level(rawValue: configuration.logLevel) ?? .info)
        // Without a metrics listener nothing would read them: swift-metrics stays a no-op.
        if configuration.metricsEndpoint != nil { ServerMetrics.bootstrap() }
        let logger = Logger(label: "coffer-transaction")
        do {
            try await TransactionTier(configuration: configuration, logger: logger).run()
        } catch {
            logger.critical("stopped on an error", metadata: ["coffer.error": "\(error)"])
            FileHandle.standardError.write(Data("coffer-transaction: \(error)\n".utf8))
            exit(78)
        }
    }
}
