import CofferTransaction
import CofferServerSupport
import CofferTierLink
import CofferTesting
import Foundation
import Testing

/// deploy/config/transaction.conf.example: what an operator copies to /etc/coffer. It names every
/// setting of the tier, and the tier reads it as it stands.
@Suite struct TransactionExampleConfigTests {
    static let path = ExampleConfig.path("transaction.conf.example")

    @Test("the example transaction config names every setting and reads cleanly")
    func example() throws {
        let named = try ExampleConfig.namedKeys(Self.path)
        let keys = Set(TransactionSettings.reader.settings.map(\.key))
        #expect(keys.subtracting(named).isEmpty, "settings the example does not name: \(keys.subtracting(named).sorted())")
        guard case .configuration(let configuration) = try TransactionSettings.reader.read(
            arguments: ["--config", Self.path], environment: [:], defaults: TransactionTierConfiguration()
        ) else { throw ExampleError.notAConfiguration }
        #expect(configuration.tierLink.link.endpoints == ["tcp://10.0.1.5:7701"])
        #expect(configuration.metricsEndpoint == "10.0.0.5:9464")
        #expect(configuration.keys.kekFile == "/var/lib/coffer-transaction/kek.b64")
    }

    enum ExampleError: Error { case notAConfiguration }
}
