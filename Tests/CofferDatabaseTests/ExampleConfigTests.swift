import CofferDatabase
import CofferServerSupport
import CofferTesting
import Foundation
import Testing

/// deploy/config/database.conf.example: what an operator copies to /etc/coffer. It names every
/// setting of the tier, and the tier reads it as it stands.
@Suite struct DatabaseExampleConfigTests {
    static let path = ExampleConfig.path("database.conf.example")

    @Test("the example database config names every setting and reads cleanly")
    func example() throws {
        let named = try ExampleConfig.namedKeys(Self.path)
        let keys = Set(DatabaseSettings.reader.settings.map(\.key))
        #expect(keys.subtracting(named).isEmpty, "settings the example does not name: \(keys.subtracting(named).sorted())")
        guard case .configuration(let configuration) = try DatabaseSettings.reader.read(
            arguments: ["--config", Self.path], environment: [:], defaults: DatabaseTierConfiguration()
        ) else { throw ExampleError.notAConfiguration }
        #expect(configuration.metricsEndpoint == "10.0.1.5:9465")
        #expect(configuration.healthEndpoint == "127.0.0.1:7801")
    }

    enum ExampleError: Error { case notAConfiguration }
}
