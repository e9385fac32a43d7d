import CofferTesting
import Foundation
import Testing

/// Both tiers' metrics, scraped from their own listeners during a run: the counters move as the
/// work does, and no label carries a user name, a file name or a secret.
@Suite(.serialized) struct MetricsTests {
    /// The sum of the samples `name{…}` of a Prometheus text page whose labels include `labels`.
    static func value(_ page: String, _ name: String, _ labels: [String: String] = [:]) -> Double {
        var total = 0.0
        for line in page.split(separator: "\n") where !line.hasPrefix("#") {
            let (metric, rest) = line.firstIndex(of: "{").map { (line[..<$0], line[$0...]) } ?? (line.split(separator: " ").first ?? "", "")
            guard metric == name else { continue }
            let labelText = rest.hasPrefix("{") ? String(rest.dropFirst().prefix { $0 != "}" }) : ""
            let present = Dictionary(labelText.split(separator: ",").compactMap { pair -> (String, String)? in
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { return nil }
                return (String(parts[0]), String(parts[1]).trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
            }, uniquingKeysWith: { $1 })
            guard labels.allSatisfy({ present[$0.key] == $0.value }), let number = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
            total += number
        }
        return total
    }

    static func scrape(_ address: String?) async throws -> String {
        let port = try #require(address.flatMap { Int($0.split(separator: ":").last ?? "") }, "no metrics address in the ready file")
        let answer = try #require(await PlainHTTP.get(port: port, path: "/metrics"))
        #expect(answer.status == 200)
        return answer.body
    }

    @Test("both tiers answer /metrics on listeners of their own: requests, refusals, audit appends, tier-link calls, batches and key operations move as the work does, and no label names a user or a file")
    func scrapeDuringARun() async throws {
        let deployment = try await LocalDeployment.start(transactionArguments: ["--metrics", "127.0.0.1:0"], databaseArguments: ["--metrics", "127.0.0.1:0"])
        defer { deployment.terminate() }
        let user = "quinn-metrics-user"
        try await deployment.registerAndLogin(user)
        let folder = deployment.directory + "/work"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let name = "secret-plan-for-metrics.txt"
        try Data("the plan".utf8).write(to: URL(fileURLWithPath: folder + "/" + name))
        #expect(try await deployment.coffer(["save", folder + "/" + name], user: user).status == 0)
        let tx0 = try await Self.scrape(deployment.transactionMetrics)
        let db0 = try await Self.scrape(deployment.databaseMetrics)

        #expect(try await deployment.coffer(["save", "--force", folder + "/" + name], user: user).status == 0)
        let older = folder + "/older.coffer"
        try FileManager.default.copyItem(atPath: folder + "/" + name + ".coffer", toPath: older)
        #expect(try await deployment.coffer(["retrieve", folder + "/" + name + ".coffer", "-o", folder + "/opened.txt"], user: user).status == 0)
        // The copy from before the re-seal is refused: a FORBIDDEN answer of the database tier.
        #expect(try await deployment.coffer(["retrieve", older, "-o", folder + "/older.txt"], user: user).status != 0)
        let wrong = try await deployment.coffer(["login", "--password-stdin"] + LocalDeployment.passwordTimeout, user: user, stdin: "not the password at all\n")
        #expect(wrong.status != 0)
        let tx1 = try await Self.scrape(deployment.transactionMetrics)
        let db1 = try await Self.scrape(deployment.databaseMetrics)

        // The transaction tier: requests by route and status, refusals by code, the tier link, key operations.
        let saves = { (page: String) in Self.value(page, "hb_requests", ["http_route": "/v1/save", "http_response_status_code": "200"]) }
        #expect(saves(tx1) - saves(tx0) == 1, "one more save: \(saves(tx0)) → \(saves(tx1))")
        #expect(Self.value(tx1, "hb_requests", ["http_route": "/v1/retrieve", "http_response_status_code": "200"]) == 1)
        #expect(Self.value(tx1, "http_server_request_duration_count", ["http_route": "/v1/save"]) >= 2, "save latencies are a histogram")
        #expect(Self.value(tx1, "coffer_http_refusals_total", ["code": "login_failed"]) == 1)
        #expect(Self.value(tx1, "coffer_tier_link_calls_total", ["outcome": "ok"]) > Self.value(tx0, "coffer_tier_link_calls_total", ["outcome": "ok"]))
        #expect(Self.value(tx1, "coffer_tier_link_call_duration_seconds_count") > 0)
        #expect(Self.value(tx1, "coffer_key_operation_duration_seconds_count", ["operation": "new_generation"]) >= 3, "two saves and a re-seal")
        #expect(Self.value(tx1, "coffer_key_operation_duration_seconds_count", ["operation": "release"]) == 1)
        // Sampled at each scrape (the client's connections are closed by now, so their value is 0).
        for gauge in ["coffer_https_connections_open", "coffer_password_gate_waiting", "coffer_password_gate_running"] {
            #expect(tx1.contains("\n\(gauge) "), "\(gauge) is not sampled")
        }
        #expect(Self.value(tx1, "coffer_audit_failing") == 0)
        #expect(Self.value(tx1, "coffer_audit_write_failures_total") == 0)

        // The database tier: requests by operation and outcome, batches, audit appends.
        #expect(Self.value(db1, "coffer_db_requests_total", ["operation": "CreateRecord", "outcome": "ok"])
            - Self.value(db0, "coffer_db_requests_total", ["operation": "CreateRecord", "outcome": "ok"]) == 1)
        #expect(Self.value(db1, "coffer_db_requests_total", ["operation": "ReleaseKey", "outcome": "ok"]) == 1)
        #expect(Self.value(db1, "coffer_db_requests_total", ["operation": "ReleaseKey", "outcome": "forbidden"]) == 1, "refusals are named as the tier protocol names them")
        #expect(Self.value(db1, "coffer_db_batch_size_count") > Self.value(db0, "coffer_db_batch_size_count"))
        #expect(Self.value(db1, "coffer_db_batch_duration_seconds_count") > 0)
        let appended = Self.value(db1, "coffer_audit_appends_total") - Self.value(db0, "coffer_audit_appends_total")
        #expect(appended >= 5, "a save, a retrieve, a re-seal and its key_destroyed, a failed login: \(appended)")
        #expect(Self.value(db1, "coffer_audit_log_entries") >= Self.value(db1, "coffer_audit_appends_total"))

        // Nothing of the user's in any label or value.
        for page in [tx1, db1] {
            #expect(!page.contains(user) && !page.contains(name) && !page.contains("secret-plan"), "a metric names the user or the file")
        }
        let unknown = try #require(await PlainHTTP.get(port: Int(deployment.transactionMetrics!.split(separator: ":").last!)!, path: "/v1/health"))
        #expect(unknown.status == 404, "the metrics listener answers metrics only")
    }
}
