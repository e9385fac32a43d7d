import CofferAPI
import Crypto
import Foundation

/// The browser client's files as the transaction tier serves them: read once from a folder, each
/// with its SHA-256, the page rendered with Subresource Integrity for every script and the
/// WebAssembly hash, and the manifest that lists them all (docs/ARCHITECTURE.md, "The browser module").
public struct WebModule: Sendable {
    /// One served file.
    public struct File: Sendable {
        /// The path below the site's root, without a leading slash (`js/app.js`).
        public let path: String
        public let bytes: [UInt8]
        /// SHA-256 of `bytes`.
        public let sha256: [UInt8]
        public let contentType: String

        /// The Subresource Integrity value: `sha256-` and the base64 digest.
        public var integrity: String { "sha256-" + Data(sha256).base64EncodedString() }
    }

    /// Every served file by path, the rendered `index.html` among them.
    public let files: [String: File]
    /// The Content-Security-Policy every page answer carries.
    public let contentSecurityPolicy: String
    /// The manifest's bytes (``WebManifest``): what the key service signs and audits.
    public let manifest: [UInt8]

    /// The file types served, by extension; other files in the folder are not served.
    static let contentTypes = [
        "html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8",
        "wasm": "application/wasm", "svg": "image/svg+xml",
    ]

    /// The largest module folder read, in bytes: a module is small; a folder above this is a mistake.
    static let maxBytes = 8 << 20

    /// Reads the module in `directory`: `index.html` (a template, see ``PageTemplate``), `sha256.wasm`
    /// and the rest. Throws ``WebModuleError`` with a line an operator can act on.
    public static func load(directory: String) throws -> WebModule {
        let root = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        var raw: [String: [UInt8]] = [:]
        var total = 0
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw WebModuleError("cannot read the browser module folder \(directory)")
        }
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true,
                  contentTypes[url.pathExtension] != nil
            else { continue }
            let path = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
            guard WebPath.isServable(path) else { throw WebModuleError("the browser module file \(path) has a name the tier does not serve (a-z, 0-9, . _ - and /)") }
            let bytes = try Array(Data(contentsOf: url))
            total += bytes.count
            guard total <= maxBytes else { throw WebModuleError("the browser module folder \(directory) holds more than \(maxBytes >> 20) MiB") }
            raw[path] = bytes
        }
        guard let template = raw.removeValue(forKey: "index.html") else {
            throw WebModuleError("the browser module folder \(directory) has no index.html")
        }
        guard raw["sha256.wasm"] != nil else {
            throw WebModuleError("the browser module folder \(directory) has no sha256.wasm: run scripts/build-web-module")
        }
        var files: [String: File] = [:]
        for (path, bytes) in raw { files[path] = file(path, bytes) }
        let page = try PageTemplate.render(template, files: files)
        files["index.html"] = file("index.html", Array(page.html.utf8))
        return WebModule(files: files, contentSecurityPolicy: page.contentSecurityPolicy, manifest: WebManifest.encode(files.values))
    }

    static func file(_ path: String, _ bytes: [UInt8]) -> File {
        let ext = path.split(separator: ".").last.map(String.init) ?? ""
        return File(path: path, bytes: bytes, sha256: Array(SHA256.hash(data: bytes)), contentType: contentTypes[ext] ?? "application/octet-stream")
    }

    /// The folder of the module in this checkout: `web/module` beside `Sources`. An installed tier is
    /// told where its module lives with the `web-module` setting.
    public static var checkoutDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("web/module").path
    }
}

/// Why the browser module cannot be served.
public struct WebModuleError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The names the module's files may have.
enum WebPath {
    static func isServable(_ path: String) -> Bool {
        guard !path.isEmpty, path.utf8.count <= 200, !path.hasPrefix("/"), !path.contains("//"), !path.contains("..") else { return false }
        return path.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "._-/".unicodeScalars.contains($0) }
    }
}
