import CofferStorage
import CofferTesting
import Foundation
import Testing

/// The readiness probe's answer to "does the store answer?".
@Suite struct StoreProbeTests {
    @Test("a store that cannot be opened is unreachable; once it can, the probe reconnects")
    func unreachableThenReachable() throws {
        let folder = try TestEnvironment.makeTemporaryDirectory("probe") + "/later"
        let probe = StoreProbe(location: StoreLocation(folder + "/store.sqlite"))
        #expect(!probe.isReachable(), "a SQLite file in a missing folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        #expect(probe.isReachable())
        #expect(probe.isReachable(), "on the kept connection")
    }

    @Test("a PostgreSQL server that refuses the connection is unreachable")
    func refusedPostgres() {
        let probe = StoreProbe(location: StoreLocation("postgresql://coffer@127.0.0.1:1/coffer?connect_timeout=2"))
        #expect(!probe.isReachable())
    }
}
