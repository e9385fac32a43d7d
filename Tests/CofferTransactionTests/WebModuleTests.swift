@testable import CofferTransaction
import CofferAPI
import CofferKeys
import CofferTesting
import CofferTierLink
import CofferWebModule
import CofferWire
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// The browser module as the transaction tier reads, renders and serves it, in process.
@Suite struct WebModuleTests {
    static let template = """
        <!doctype html><html><head><meta name="coffer-sha256-integrity" content="{{sha256.wasm}}">
        <!-- coffer:importmap -->
        <!-- coffer:entry -->
        </head><body></body></html>
        """

    /// A module folder: the template, two scripts, a stylesheet and the WebAssembly file.
    static func folder(_ files: [String: String]? = nil) throws -> String {
        let directory = try TestEnvironment.makeTemporaryDirectory("web")
        let contents = files ?? [
            "index.html": template, "js/app.js": "import './util.js';\n", "js/util.js": "export const x = 1;\n",
            "style.css": "body {}\n", "sha256.wasm": "\u{0}asm", "README.md": "not served\n",
        ]
        for (path, text) in contents {
            let url = URL(fileURLWithPath: directory).appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        return directory
    }

    static func integrity(_ text: String) -> String { "sha256-" + Data(SHA256.hash(data: Data(text.utf8))).base64EncodedString() }

    @Test("the page gives every script's integrity in an import map, the entry script its own, and the policy allows only that inline script")
    func page() throws {
        let module = try WebModule.load(directory: try Self.folder())
        let html = String(decoding: try #require(module.files["index.html"]).bytes, as: UTF8.self)
        #expect(html.contains("\"/js/util.js\": \"\(Self.integrity("export const x = 1;\n"))\""))
        #expect(html.contains("<script type=\"module\" src=\"/js/app.js\" integrity=\"\(Self.integrity("import './util.js';\n"))\""))
        #expect(html.contains("content=\"\(Self.integrity("\u{0}asm"))\""))
        let start = try #require(html.range(of: "<script type=\"importmap\">")).upperBound
        let end = try #require(html[start...].range(of: "</script>")).lowerBound
        #expect(module.contentSecurityPolicy.contains("script-src 'self' '\(Self.integrity(String(html[start..<end])))' 'wasm-unsafe-eval'"))
        #expect(module.contentSecurityPolicy.contains("default-src 'self'") && module.contentSecurityPolicy.contains("frame-ancestors 'none'"))
        #expect(module.files["README.md"] == nil, "a file type the module does not serve was served")
    }

    @Test("a module without sha256.wasm, without the template's markers, or with a name the tier does not serve is refused")
    func refusals() throws {
        #expect(throws: WebModuleError.self) { try WebModule.load(directory: try Self.folder(["index.html": Self.template, "js/app.js": ""])) }
        #expect(throws: WebModuleError.self) { try WebModule.load(directory: try Self.folder(["index.html": "<html></html>", "js/app.js": "", "sha256.wasm": "x"])) }
        #expect(throws: WebModuleError.self) { try WebModule.load(directory: try Self.folder(["index.html": Self.template, "js/app.js": "", "sha256.wasm": "x", "js/Évil.js": ""])) }
        #expect(throws: WebModuleError.self) { try WebModule.load(directory: "/nonexistent/coffer-web") }
        let oversized = String(repeating: "x", count: (8 << 20) + 1)
        #expect(throws: WebModuleError.self) { try WebModule.load(directory: try Self.folder(["index.html": Self.template, "js/app.js": oversized, "sha256.wasm": "x"])) }
    }

    @Test("the manifest lists every served file with its size and SHA-256, and the identity key's signature over it verifies")
    func manifest() async throws {
        let module = try WebModule.load(directory: try Self.folder())
        let testbed = try await RouteTestbed.make(webModule: module)
        let answer = try await testbed.test { client in
            try await client.execute(uri: "/v1/web/manifest", method: .get) { response in
                #expect(response.status == .ok)
                return try JSONDecoder().decode(WebManifestResponse.self, from: Data(String(buffer: response.body).utf8))
            }
        }
        let bytes = try #require(Data(base64Encoded: answer.manifest))
        let document = try #require(WebManifest.decode(Array(bytes)))
        #expect(document.files.map(\.path) == ["index.html", "js/app.js", "js/util.js", "sha256.wasm", "style.css"])
        for entry in document.files {
            let file = try #require(module.files[entry.path])
            #expect(entry.size == file.bytes.count && entry.sha256 == Hex.encode(file.sha256))
        }
        let signature = try P256.Signing.ECDSASignature(derRepresentation: try #require(Data(base64Encoded: answer.signature)))
        #expect(testbed.keys.signingKey.publicKey.isValidSignature(signature, for: WebManifest.statement(Array(bytes))))
        #expect(answer.sha256 == Hex.encode(SHA256.hash(data: bytes)))
    }

    @Test("module files carry the page policy, no-cache and their hash as ETag, a matching If-None-Match gets 304, and API answers stay no-store")
    func headers() async throws {
        let module = try WebModule.load(directory: try Self.folder())
        let testbed = try await RouteTestbed.make(webModule: module)
        let index = try #require(module.files["index.html"])
        try await testbed.test { client in
            let tag = try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentSecurityPolicy] == module.contentSecurityPolicy)
                #expect(response.headers[.cacheControl] == "no-cache")
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(Array(buffer: response.body) == index.bytes)
                return try #require(response.headers[.eTag])
            }
            #expect(tag == "\"\(Hex.encode(index.sha256))\"")
            try await client.execute(uri: "/js/util.js", method: .get, headers: [.ifNoneMatch: "\"\(Hex.encode(try #require(module.files["js/util.js"]).sha256))\""]) { response in
                #expect(response.status == .notModified)
            }
            try await client.execute(uri: "/js/missing.js", method: .get) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/live", method: .get) { response in
                #expect(response.headers[.cacheControl] == "no-store")
                #expect(response.headers[.contentSecurityPolicy] == "default-src 'none'; frame-ancestors 'none'")
            }
        }
    }

    @Test("the module's audit entry is retried while the database tier is unavailable and then named in the manifest; a refusal is final and the manifest names no entry")
    func publication() async throws {
        let module = try WebModule.load(directory: try Self.folder())
        let testbed = try await RouteTestbed.make(webModule: module)
        let attempts = Mutex(0)
        testbed.database.answer("AppendAudit") { body in
            guard case .appendAudit(let entry) = body, entry.kind == "web_module", entry.user == "-" else {
                throw DatabaseLinkError.refused(.internal, "not the module's entry")
            }
            guard attempts.withLock({ $0 += 1; return $0 }) > 2 else { throw DatabaseLinkError.unavailable("the test's tier is down") }
            var ack = Coffer_Wire_V1_Ack()
            ack.auditIndex = 41
            return .ack(ack)
        }
        let index = await testbed.services.publishWebModule(logger: Logger(label: "test"), retryInterval: .milliseconds(10))
        #expect(index == 41)
        #expect(attempts.withLock { $0 } == 3, "two unavailable answers, then the acknowledgement")
        #expect(try await Self.manifestIndex(testbed) == 41)

        let refusing = try await RouteTestbed.make(webModule: module)
        refusing.database.refuse("AppendAudit", .badRequest, "the tier does not take this entry")
        #expect(await refusing.services.publishWebModule(logger: Logger(label: "test"), retryInterval: .milliseconds(10)) == nil)
        #expect(refusing.database.calls.filter { $0 == "AppendAudit" }.count == 1, "a refusal is not retried")
        #expect(try await Self.manifestIndex(refusing) == nil)
    }

    static func manifestIndex(_ testbed: RouteTestbed) async throws -> Int64? {
        try await testbed.test { client in
            try await client.execute(uri: "/v1/web/manifest", method: .get) { response in
                try JSONDecoder().decode(WebManifestResponse.self, from: Data(String(buffer: response.body).utf8)).auditIndex
            }
        }
    }

    @Test("a module folder the operator named that cannot be read stops the tier; the default folder missing only warns; off serves none")
    func requiredFolder() throws {
        var named = TransactionTierConfiguration.Web()
        named.moduleDirectory = "/nonexistent/coffer-web"
        named.required = true
        #expect(throws: TransactionTierError.self) { try TransactionTier.webModule(named, logger: Logger(label: "test")) }
        named.required = false
        #expect(try TransactionTier.webModule(named, logger: Logger(label: "test")) == nil)
        var off = TransactionTierConfiguration.Web()
        off.moduleDirectory = nil
        off.required = false
        #expect(try TransactionTier.webModule(off, logger: Logger(label: "test")) == nil)
        named.moduleDirectory = try Self.folder()
        named.required = true
        #expect(try TransactionTier.webModule(named, logger: Logger(label: "test"))?.files["index.html"] != nil)
    }
}
