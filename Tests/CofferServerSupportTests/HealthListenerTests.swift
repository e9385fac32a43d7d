import CofferServerSupport
import Testing

/// The probes-and-metrics listener's address, as an operator writes it in a setting.
@Suite struct HealthListenerTests {
    @Test("HOST:PORT binds (port 0 picks one); an address without a port, a port out of range or a host that is no IPv4 address is refused with a line")
    func endpoints() throws {
        let listener = try HealthListener(endpoint: "127.0.0.1:0", metrics: { "" })
        defer { listener.stop() }
        #expect(listener.port > 0 && listener.host == "127.0.0.1")
        for bad in ["127.0.0.1", "127.0.0.1:70000", "127.0.0.1:x", "localhost:0"] {
            #expect(throws: HealthListenerError.self, "\(bad)") { try HealthListener(endpoint: bad, metrics: { "" }) }
        }
    }
}
