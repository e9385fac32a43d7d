import CofferStorage
import CofferTesting
import CofferTransaction
import Crypto
import Foundation
import Testing

/// After a full run, nothing at rest outside the transaction tier's keys and the client's own state
/// holds a decode key, the KEK, a password, a session token or plaintext; key files are 0600; and
/// the database tier's memory never holds the KEK or a decode key.
@Suite(.serialized) struct SecrecyAtRestTests {
    /// One secret in every encoding it could be written in.
    struct Secret {
        let name: String
        let forms: [[UInt8]]

        init(_ name: String, bytes: [UInt8]) {
            let data = Data(bytes)
            let hex = bytes.map { String(format: "%02x", $0) }.joined()
            let base64 = data.base64EncodedString()
            let base64url = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            self.name = name
            self.forms = [bytes, Array(hex.utf8), Array(hex.uppercased().utf8), Array(base64.utf8), Array(base64url.utf8)]
                .map { Array($0.prefix(48)) }
        }

        init(_ name: String, text: String) {
            self.name = name
            self.forms = [Array(text.utf8)]
        }

        /// Whether any form is in `haystack`.
        func found(in haystack: [UInt8]) -> Bool {
            forms.contains { form in SecrecyAtRestTests.contains(haystack, form) }
        }
    }

    @Test("no decode key, KEK, password, session token or plaintext at rest; key files 0600; the database tier never holds the KEK",
          arguments: EndToEndTests.stores)
    func nothingLeaks(store: EndToEndTests.Store) async throws {
        let deployment = try await EndToEndTests.deploy(store)
        defer { deployment.terminate() }
        let password = "secret-password-" + UUID().uuidString
        try await deployment.registerAndLogin("vera", password: password)
        let work = deployment.directory + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let marker = "PLAINTEXT-MARKER-" + UUID().uuidString
        try Data(String(repeating: marker + "\n", count: 2000).utf8).write(to: URL(fileURLWithPath: work + "/secret.txt"))

        #expect(try await deployment.coffer(["save", work + "/secret.txt"], user: "vera").status == 0)
        let firstKeys = try decodeKeys(deployment)
        let retrieved = try await deployment.coffer(["retrieve", work + "/secret.txt.coffer", "-o", work + "/copy.txt"], user: "vera")
        #expect(retrieved.status == 0, "\(retrieved.stderr)")
        let history = try await deployment.coffer(["history", work + "/secret.txt.coffer", "--verify"], user: "vera")
        #expect(history.status == 0, "\(history.stderr)")
        let laterKeys = try decodeKeys(deployment)
        #expect(!firstKeys.isEmpty && !laterKeys.isEmpty && firstKeys != laterKeys, "the retrieve re-sealed under a new key pair")

        let kekText = try String(contentsOfFile: deployment.directory + "/keys/transaction/kek.b64", encoding: .utf8)
        let kek = try #require(Data(base64Encoded: kekText.trimmingCharacters(in: .whitespacesAndNewlines)))
        let sessionFolder = deployment.directory + "/client-vera"
        let token = try sessionTokens(in: sessionFolder)
        #expect(!token.isEmpty, "the client keeps its session token")
        var secrets = [Secret("the password", text: password), Secret("the plaintext", text: marker), Secret("the KEK", bytes: Array(kek))]
        secrets += token.map { Secret("the session token", text: $0) }
        secrets += (firstKeys + laterKeys).map { Secret("a decode key", bytes: $0) }

        // Everything at rest outside the transaction tier's own keys and the client's own state.
        var artifacts: [(String, [UInt8])] = []
        let skipped = [deployment.directory + "/keys/transaction", sessionFolder, work]
        for path in try files(under: deployment.directory) where !skipped.contains(where: { path.hasPrefix($0 + "/") }) {
            artifacts.append((path, Array(try Data(contentsOf: URL(fileURLWithPath: path)))))
        }
        if store == .postgresql {
            let dump = try TestProcess("/usr/bin/pg_dump", [deployment.store], environment: ["PATH": "/usr/bin:/bin"], logDirectory: work)
            #expect(try await dump.wait(timeout: .seconds(60)) == 0, "\(dump.standardError)")
            artifacts.append(("pg_dump", Array(dump.standardOutput.utf8)))
            #expect(dump.standardOutput.contains("audit_log"), "the dump holds the store")
        } else {
            #expect(artifacts.contains { $0.0 == deployment.store }, "the SQLite file is searched")
        }
        // The SQLite file with its write-ahead log, or the dump.
        let stored = artifacts.filter { $0.0.hasPrefix(deployment.store) || $0.0 == "pg_dump" }.flatMap(\.1)
        #expect(Secret("a user name", text: "vera").found(in: stored), "the search does find what the store holds")
        for (path, bytes) in artifacts {
            for secret in secrets where secret.found(in: bytes) {
                Issue.record("\(secret.name) is in \(path)")
            }
        }

        // Private key files are readable by their owner only.
        for path in try files(under: deployment.directory + "/keys") + files(under: sessionFolder)
        where path.hasSuffix(".key") || path.hasSuffix(".secret") || path.hasSuffix(".pem") || path.hasSuffix("kek.b64") {
            let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0o777
            #expect(mode & 0o077 == 0, "\(path) is readable by others: \(String(mode & 0o777, radix: 8))")
        }

        // The database tier is given no KEK, and its memory holds neither the KEK nor a decode key.
        let pid = try #require(deployment.database?.pid)
        let commandLine = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))
        #expect(!String(decoding: commandLine, as: UTF8.self).contains("kek"))
        let memory = try readableMemory(of: pid)
        let allowed = try String(contentsOfFile: deployment.directory + "/keys/database/allow.list", encoding: .utf8)
            .split(separator: "\n").first { !$0.hasPrefix("#") && !$0.isEmpty }.map(String.init) ?? "-"
        #expect(Self.contains(memory, Array(allowed.utf8)), "the scan does find what the database tier holds (its allow list)")
        for secret in [Secret("the KEK", bytes: Array(kek))] + (firstKeys + laterKeys).map({ Secret("a decode key", bytes: $0) })
        where Self.contains(memory, secret.forms[0]) {
            Issue.record("\(secret.name) is in the database tier's memory")
        }
    }

    /// Whether `needle` occurs in `haystack` (memchr and memcmp: the haystacks are hundreds of megabytes).
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        return haystack.withUnsafeBytes { h in
            needle.withUnsafeBytes { n in
                let base = h.baseAddress!
                var offset = 0
                while offset + n.count <= h.count {
                    guard let hit = memchr(base + offset, Int32(n[0]), h.count - n.count + 1 - offset) else { return false }
                    if memcmp(hit, n.baseAddress!, n.count) == 0 { return true }
                    offset = UnsafeRawPointer(hit) - base + 1
                }
                return false
            }
        }
    }

    /// The raw decode keys of every stored record, unwrapped with the KEK as only the transaction tier can.
    func decodeKeys(_ deployment: LocalDeployment) throws -> [[UInt8]] {
        let kekText = try String(contentsOfFile: deployment.directory + "/keys/transaction/kek.b64", encoding: .utf8)
        let kek = SymmetricKey(data: try #require(Data(base64Encoded: kekText.trimmingCharacters(in: .whitespacesAndNewlines))))
        let connection = try StoreLocation(deployment.store).connect()
        let wrapper = KeyWrapper(kek: kek)
        return try connection.query("SELECT id, owner, encode_key_id, wrapped_decode_key FROM records", []).map { row in
            try wrapper.unwrap(try row.blob(3), recordID: try row.blob(0), owner: try row.text(1), encodeKeyID: try row.blob(2)).rawRepresentation.map { $0 }
        }
    }

    /// The session tokens in the client's state folder.
    func sessionTokens(in folder: String) throws -> [String] {
        try files(under: folder).compactMap { path in
            guard let data = FileManager.default.contents(atPath: path),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let token = object["token"] as? String
            else { return nil }
            return token
        }
    }

    func files(under folder: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        return walker.compactMap { $0 as? String }.map { folder + "/" + $0 }.filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
    }

    /// Every readable mapping of a process's memory (the test runs as the same user).
    func readableMemory(of pid: Int32) throws -> [UInt8] {
        let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
        let fd = open("/proc/\(pid)/mem", O_RDONLY)
        guard fd >= 0 else { throw TestError("cannot open the memory of process \(pid)") }
        defer { close(fd) }
        var memory: [UInt8] = []
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[1].hasPrefix("r"), !line.hasSuffix("[vvar]"), !line.hasSuffix("[vsyscall]") else { continue }
            let bounds = fields[0].split(separator: "-").compactMap { UInt64($0, radix: 16) }
            guard bounds.count == 2, bounds[1] > bounds[0], bounds[1] - bounds[0] < 1 << 30 else { continue }
            var chunk = [UInt8](repeating: 0, count: Int(bounds[1] - bounds[0]))
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(bounds[0])) }
            if n > 0 { memory += chunk.prefix(n) }
        }
        return memory
    }
}
