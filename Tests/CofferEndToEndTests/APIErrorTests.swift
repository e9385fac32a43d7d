import CofferTesting
import Foundation
import Testing

/// Every refusal of the HTTPS API is the documented `Error` body with a code, whatever refused it:
/// a malformed body, a wrong method, an unknown path, an oversized body, a request without Host.
/// (scripts/api-conformance checks the whole API against docs/api/openapi.yaml with schemathesis.)
@Suite(.serialized) struct APIErrorTests {
    struct Answer {
        let status: Int
        let headers: String
        let body: String
    }

    /// One request with curl.
    func curl(_ deployment: LocalDeployment, _ method: String, _ path: String, body: String? = nil) async throws -> Answer {
        let folder = deployment.directory + "/api"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let name = UUID().uuidString
        var arguments = ["-sS", "--cacert", deployment.caFile, "-X", method, "-D", "\(folder)/\(name).head", "-o", "\(folder)/\(name).body",
                         "-w", "%{http_code}", "-H", "Content-Type: application/json"]
        if let body {
            try body.write(toFile: "\(folder)/\(name).in", atomically: true, encoding: .utf8)
            arguments += ["--data-binary", "@\(folder)/\(name).in"]
        }
        let process = try TestProcess("/usr/bin/curl", arguments + [deployment.serverURL + path], environment: ["PATH": "/usr/bin:/bin"], logDirectory: folder)
        #expect(try await process.wait(timeout: .seconds(30)) == 0, "\(process.standardError)")
        return Answer(status: Int(process.standardOutput) ?? 0,
                      headers: (try? String(contentsOfFile: "\(folder)/\(name).head", encoding: .utf8)) ?? "",
                      body: (try? String(contentsOfFile: "\(folder)/\(name).body", encoding: .utf8)) ?? "")
    }

    /// The raw answer to `request` sent over TLS as it is.
    func raw(_ deployment: LocalDeployment, _ request: String) async throws -> String {
        let port = try #require(deployment.serverURL.split(separator: ":").last.map(String.init))
        let client = try TestProcess("/usr/bin/openssl", ["s_client", "-quiet", "-connect", "127.0.0.1:\(port)", "-CAfile", deployment.caFile],
                                     environment: ["PATH": "/usr/bin:/bin"], stdin: Array(request.utf8), logDirectory: deployment.directory)
        _ = try await client.wait(timeout: .seconds(30))
        return client.standardOutput
    }

    @Test("malformed bodies, wrong methods, unknown paths and oversized bodies all get the Error body with a code")
    func errorBodies() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        for path in ["/v1/identity", "/v1/register", "/v1/login"] {
            for body in ["{not json", "true", "{}", #"{"challenge": 5, "user": 5}"#] {
                let answer = try await curl(deployment, "POST", path, body: body)
                #expect(answer.status == 400 && answer.body.contains(#""code":"bad_request""#), "\(path) \(body): \(answer.status) \(answer.body)")
            }
        }
        let missing = try await curl(deployment, "POST", "/v1/register", body: "{}")
        #expect(missing.body.contains("user is missing"), "says which field: \(missing.body)")

        for (method, path, allow) in [("GET", "/v1/login", "POST"), ("DELETE", "/v1/save", "POST"), ("PUT", "/v1/records/x/history", "GET"), ("POST", "/v1/live", "GET")] {
            let answer = try await curl(deployment, method, path)
            #expect(answer.status == 405 && answer.body.contains(#""code":"method_not_allowed""#), "\(method) \(path): \(answer.status) \(answer.body)")
            #expect(answer.headers.lowercased().contains("allow: \(allow.lowercased())"), "\(answer.headers)")
        }
        let unknown = try await curl(deployment, "GET", "/v1/no-such-endpoint")
        #expect(unknown.status == 404 && unknown.body.contains(#""code":"not_found""#), "\(unknown.body)")
        let large = try await curl(deployment, "POST", "/v1/login", body: String(repeating: "a", count: 70_000))
        #expect(large.status == 413 && large.body.contains(#""code":"too_large""#), "\(large.status) \(large.body)")
    }

    @Test("an HTTP/1.1 request without exactly one Host header is refused 400; HTTP/1.0 needs none")
    func hostHeader() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        let without = try await raw(deployment, "GET /v1/live HTTP/1.1\r\nConnection: close\r\n\r\n")
        #expect(without.hasPrefix("HTTP/1.1 400") && without.contains(#""code":"bad_request""#), "\(without)")
        let twice = try await raw(deployment, "GET /v1/live HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n")
        #expect(twice.hasPrefix("HTTP/1.1 400"), "\(twice)")
        let with = try await raw(deployment, "GET /v1/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        #expect(with.hasPrefix("HTTP/1.1 200"), "\(with)")
        let old = try await raw(deployment, "GET /v1/live HTTP/1.0\r\nConnection: close\r\n\r\n")
        #expect(old.contains(" 200 "), "\(old)")
    }
}
