import CofferTesting
import Foundation
import Testing

/// The transaction tier speaks only TLS 1.2 and 1.3 with AEAD suites, and every answer tells
/// browsers and proxies not to keep it.
@Suite(.serialized) struct TLSPolicyTests {
    /// Whether `openssl s_client` completes a handshake with `options`.
    func handshakes(_ deployment: LocalDeployment, _ options: [String]) async throws -> Bool {
        let port = try #require(deployment.serverURL.split(separator: ":").last.map(String.init))
        let client = try TestProcess(
            "/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", deployment.caFile, "-verify_return_error", "-brief"] + options,
            environment: ["PATH": "/usr/bin:/bin"], logDirectory: deployment.directory
        )
        return try await client.wait(timeout: .seconds(30)) == 0
    }

    @Test("TLS 1.3 and TLS 1.2 with ECDHE AES-256-GCM are accepted; other TLS 1.2 suites and TLS 1.0 and 1.1 are refused; answers say no-store")
    func policy() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        #expect(try await handshakes(deployment, ["-tls1_3"]))
        #expect(try await handshakes(deployment, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"]))
        // CBC suites are refused; so are the other AEAD suites, so that a TLS 1.2 client cannot pick.
        for suite in ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384",
                      "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"] {
            #expect(try await !handshakes(deployment, ["-tls1_2", "-cipher", suite]), "\(suite) was accepted")
        }
        // The client side must be allowed the old versions for the refusal to be the server's.
        for old in ["-tls1", "-tls1_1"] {
            #expect(try await !handshakes(deployment, [old, "-cipher", "DEFAULT@SECLEVEL=0"]), "\(old) was accepted")
        }

        let headersFile = deployment.directory + "/headers.txt"
        let curl = try TestProcess("/usr/bin/curl", ["-sS", "--cacert", deployment.caFile, "-D", headersFile, "-o", "/dev/null", deployment.serverURL + "/v1/live"],
                                   environment: ["PATH": "/usr/bin:/bin"], logDirectory: deployment.directory)
        #expect(try await curl.wait(timeout: .seconds(30)) == 0)
        let headers = try String(contentsOfFile: headersFile, encoding: .utf8).lowercased()
        #expect(headers.contains("cache-control: no-store"))
        #expect(headers.contains("strict-transport-security: max-age="))
        #expect(headers.contains("x-content-type-options: nosniff"))
    }
}
