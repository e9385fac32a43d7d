import CofferAPI
import CofferClient
import CofferContainer
import CofferTesting
import Crypto
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What an outside attacker tried with names, crafted containers and special files: refused,
/// escaped, and never copied into anyone's permanent history.
@Suite(.serialized) struct HostileInputTests {
    struct History: Decodable {
        struct Event: Decodable { let kind: String; let detail: String; let fileName: String?; let recordID: String? }
        let events: [Event]
    }

    func history(_ deployment: LocalDeployment, _ user: String) async throws -> [History.Event] {
        let listed = try await deployment.coffer(["history", "--json"], user: user)
        #expect(listed.status == 0, "\(listed.stderr)")
        return try JSONDecoder().decode(History.self, from: Data(listed.stdout.utf8)).events
    }

    /// Scalars that do not show as themselves, in any output meant for a person.
    static func rawHidden(_ text: String) -> [String] {
        text.unicodeScalars.filter { [0x202E, 0x9B, 0x85, 0x2028, 0x2029, 0x200B, 0x1B].contains($0.value) }.map { String($0.value, radix: 16) }
    }

    @Test("file names with C1 controls, bidi overrides, zero-width characters or line separators are refused by the client and the key service")
    func hostileNamesAreRefused() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("nora")
        let work = deployment.directory + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        for name in ["invoice\u{202E}fdp.exe", "csi\u{9B}2J.txt", "next\u{85}line.txt", "line\u{2028}sep.txt", "zero\u{200B}width.txt"] {
            try Data("x".utf8).write(to: URL(fileURLWithPath: work + "/" + name))
            let saved = try await deployment.coffer(["save", work + "/" + name], user: "nora")
            #expect(saved.status == 64, "\(name.unicodeScalars.map { $0.value }): \(saved.stderr)")
            #expect(saved.stderr.contains("cannot be recorded") && Self.rawHidden(saved.stderr).isEmpty, "\(saved.stderr)")
            #expect(!FileManager.default.fileExists(atPath: work + "/" + name + ".coffer"))
        }
        // The key service refuses them too, whatever the client.
        let nora = try identity(deployment, "nora")
        let call = Call(method: "POST", path: "/v1/save", body: try json(
            SaveRequest(fileName: "invoice\u{202E}fdp.exe", sha256: String(repeating: "ab", count: 32), size: 1)))
        let reply = try await send(deployment, call, headers: try signed(call, token: nora.token, signer: nora.key))
        #expect(reply.status == 400 && reply.body.contains(#""code":"bad_request""#), "\(reply.status) \(reply.body)")
        #expect(try await history(deployment, "nora").map(\.kind) == ["register", "login"], "nothing was recorded")
    }

    @Test("hostile text in the history reaches the terminal escaped, as text and as JSON")
    func historyIsEscaped() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("olga")
        let reason = "lost laptop \u{202E}gpj.exe\u{9B}2J\u{2028}fake line"
        #expect(try await deployment.admin(["users", "lock", "olga", "--reason", reason]).status == 0)
        #expect(try await deployment.admin(["users", "unlock", "olga", "--reason", "found"]).status == 0)
        let login = try await deployment.coffer(["login", "--password-stdin", "--timeout", "60"], user: "olga", stdin: "correct horse battery staple\n")
        #expect(login.status == 0, "\(login.stderr)")

        let text = try await deployment.coffer(["history"], user: "olga")
        #expect(text.status == 0, "\(text.stderr)")
        #expect(Self.rawHidden(text.stdout).isEmpty, "raw scalars reached the terminal: \(Self.rawHidden(text.stdout))")
        #expect(text.stdout.contains("gpj.exe\\u{009b}2J\\u{2028}fake line"), "\(text.stdout)")
        #expect(text.stdout.contains("\\u{202e}"))
        #expect(!text.stdout.split(separator: "\n").contains { $0.hasPrefix("fake line") }, "no field makes a line of its own")

        let json = try await deployment.coffer(["history", "--json"], user: "olga")
        #expect(Self.rawHidden(json.stdout).isEmpty && json.stdout.contains("\\u202e"), "\(json.stdout)")
        let events = try JSONDecoder().decode(History.self, from: Data(json.stdout.utf8)).events
        #expect(events.contains { $0.detail.contains(reason) }, "the JSON value is unchanged")

        // The audit export is the log's own bytes: new entries carry the escapes too.
        let export = deployment.directory + "/export"
        #expect(try await deployment.admin(["audit", "export", export]).status == 0)
        let entries = try String(contentsOfFile: export + "/entries.jsonl", encoding: .utf8)
        #expect(Self.rawHidden(entries).isEmpty && entries.contains("\\u202e"))
        // And so do the logs.
        #expect(Self.rawHidden(deployment.tierLogs).isEmpty)
    }

    @Test("a crafted container is refused before the key service is asked; a request for a missing record is audited without the name it presented")
    func craftedContainers() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("pia")
        let work = deployment.directory + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)

        // Built from docs/FORMAT.md: a random record id, a hostile name, a receipt no key service signed.
        let hostile = "invoice\u{202E}fdp.exe — your files are locked, call +1 555 0100"
        let recordID = RecordID.random()
        let encodeKey = P256.KeyAgreement.PrivateKey().publicKey
        let receipt = Receipt(recordID: RecordID.text(recordID)!, owner: "pia", clientID: UUID().uuidString.lowercased(), fileName: hostile,
                              sha256: String(repeating: "00", count: 32), size: 1, time: 1, encodeKeyID: Hex.encode(ContainerHeader.keyID(of: encodeKey)),
                              token: Data((0..<300).map { _ in UInt8.random(in: 0...255) }).base64EncodedString())
        var source = MemorySource(Array("x".utf8))
        var sink = MemorySink()
        try ContainerStream.seal(from: &source, to: &sink, recordID: recordID, encodeKey: encodeKey, receipt: try receipt.encoded())
        try Data(sink.bytes).write(to: URL(fileURLWithPath: work + "/invoice.pdf.coffer"))

        for command in [["retrieve", work + "/invoice.pdf.coffer"], ["delete", work + "/invoice.pdf.coffer", "--yes"]] {
            let refused = try await deployment.coffer(command, user: "pia")
            #expect(refused.status == 65, "\(command[0]): \(refused.stderr)")
            #expect(refused.stderr.contains("the key service was not asked") && Self.rawHidden(refused.stderr).isEmpty, "\(refused.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: work + "/invoice.pdf"))
        #expect(try await history(deployment, "pia").map(\.kind) == ["register", "login"], "no request, no entry")

        // A client that asks anyway gets a refusal audited with what the service knows, not the text it sent.
        let pia = try identity(deployment, "pia")
        let call = Call(method: "POST", path: "/v1/retrieve", body: try json(
            RetrieveRequest(recordID: receipt.recordID, fileName: hostile, token: receipt.token)))
        let reply = try await send(deployment, call, headers: try signed(call, token: pia.token, signer: pia.key))
        #expect(reply.status == 404, "\(reply.body)")
        let events = try await history(deployment, "pia")
        let refused = try #require(events.last)
        #expect(refused.kind == "retrieve_refused", "the attempt is audited")
        #expect(refused.fileName == nil && refused.recordID == receipt.recordID && !refused.detail.contains("invoice"), "\(refused)")
    }

    @Test("a named pipe, a socket, a device or a folder as input exits 66 at once for save, retrieve and verify")
    func specialFilesAreRefused() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("rosa")
        let work = deployment.directory + "/special"
        try FileManager.default.createDirectory(atPath: work + "/folder", withIntermediateDirectories: true)
        #expect(mkfifo(work + "/pipe", 0o600) == 0)
        let socketPath = work + "/socket"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (i, byte) in socketPath.utf8.enumerated() where i < buffer.count - 1 { buffer[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(bound == 0)
        let inputs = [(work + "/pipe", "named pipe"), (socketPath, "socket"), ("/dev/null", "device"), (work + "/folder", "folder")]
        for (path, kind) in inputs {
            for command in [["save", path, "-o", work + "/out.coffer"], ["retrieve", path, "-o", work + "/out"], ["verify", path]] {
                let result = try await deployment.coffer(command, user: "rosa", timeout: .seconds(20))
                #expect(result.status == 66, "\(command[0]) on a \(kind): \(result.status) \(result.stderr)")
                #expect(result.stderr.contains(kind) && result.stderr.contains("not a regular file"), "\(result.stderr)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: work + "/out.coffer") && !FileManager.default.fileExists(atPath: work + "/out"))
    }

    @Test("a 254-byte name saves and retrieves; an output name the file system cannot hold gets a clear error")
    func longNames() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("sara")
        let work = deployment.directory + "/long"
        let elsewhere = deployment.directory + "/elsewhere"
        for folder in [work, elsewhere] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let name = String(repeating: "ü", count: 125) + ".bin"
        #expect(name.utf8.count == 254)
        let content = Data((0..<100_000).map { _ in UInt8.random(in: 0...255) })
        try content.write(to: URL(fileURLWithPath: work + "/" + name))

        let tooLong = try await deployment.coffer(["save", work + "/" + name], user: "sara")
        #expect(tooLong.status == 73 && tooLong.stderr.contains("longer than the 255"), "NAME.coffer is 261 bytes: \(tooLong.stderr)")
        let saved = try await deployment.coffer(["save", work + "/" + name, "-o", work + "/long.box"], user: "sara")
        #expect(saved.status == 0, "\(saved.stderr)")

        // Without .coffer, the output is named after the receipt: the 254-byte name, in the container's folder.
        try FileManager.default.moveItem(atPath: work + "/long.box", toPath: elsewhere + "/long.box")
        let retrieved = try await deployment.coffer(["retrieve", elsewhere + "/long.box"], user: "sara")
        #expect(retrieved.status == 0, "\(retrieved.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: elsewhere + "/" + name)) == content)
        let again = try await deployment.coffer(["retrieve", elsewhere + "/long.box", "-o", work + "/" + String(repeating: "b", count: 255)], user: "sara")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).allSatisfy { !$0.contains("coffer-tmp") })
    }
}
