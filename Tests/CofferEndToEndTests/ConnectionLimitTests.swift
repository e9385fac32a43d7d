import CofferTesting
import Foundation
import Testing

/// One transaction process holds at most `--max-connections` connections; requests on others are
/// answered busy, and nothing crashes.
@Suite(.serialized) struct ConnectionLimitTests {
    @Test("connections beyond max-connections get 503 busy with Retry-After; a freed slot is used again")
    func beyondTheBound() async throws {
        let deployment = try await LocalDeployment.start(transactionArguments: ["--max-connections", "3"])
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("una")
        let file = deployment.directory + "/note.txt"
        try Data("held connections".utf8).write(to: URL(fileURLWithPath: file))
        let port = try #require(deployment.serverURL.split(separator: ":").last.map(String.init))

        // Three idle TLS connections, held open by openssl.
        var holders: [TestProcess] = []
        defer { holders.forEach { $0.killAndReap() } }
        for _ in 0..<3 {
            holders.append(try TestProcess(
                "/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", deployment.caFile, "-quiet", "-ign_eof"],
                environment: ["PATH": "/usr/bin:/bin"], logDirectory: deployment.directory
            ))
        }

        var busy: CommandResult?
        for _ in 0..<40 {
            let attempt = try await deployment.coffer(["save", file, "-o", file + ".1.coffer"], user: "una")
            if attempt.status != 0 { busy = attempt; break }
            try FileManager.default.removeItem(atPath: file + ".1.coffer")
            try await Task.sleep(for: .milliseconds(250))
        }
        let refused = try #require(busy, "a fourth connection was served although three were held")
        #expect(refused.status == 69, "\(refused.stderr)")
        #expect(refused.stderr.contains("as many connections as it may"), "\(refused.stderr)")
        #expect(refused.stderr.contains("retry after 5 s"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: file + ".1.coffer"))

        holders.removeLast().killAndReap()
        var served = false
        for _ in 0..<40 where !served {
            served = try await deployment.coffer(["save", file, "-o", file + ".2.coffer"], user: "una").status == 0
            if !served { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(served, "the freed connection slot was not used again")
        #expect(try await deployment.coffer(["verify", file + ".2.coffer"], user: "una").status == 0)
    }
}
