import CofferDatabase
import CofferServerSupport
import Foundation
import Testing

/// deploy/config/database.conf.example: what an operator copies to /etc/coffer. It names every
/// setting of the tier, and the tier reads it as it stands.
@Suite struct DatabaseExampleConfigTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/config/database.conf.example").path

    @Test("the example database config names every setting and reads cleanly")
    func example() throws {
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        let named = Set(text.split(separator: "\n").compactMap { line -> String? in
            let body = line.hasPrefix("# ") ? line.dropFirst(2) : line[...]
            guard let equals = body.range(of: " = ") else { return nil }
            return String(body[..<equals.lowerBound])
        })
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
