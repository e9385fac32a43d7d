import Crypto
import Foundation

/// Renders the module's `index.html`, whose template names three places:
///
/// - `<!-- coffer:importmap -->`: replaced by an import map that gives every JavaScript module's
///   integrity, so that each module the page imports is checked, not only the entry script;
/// - `<!-- coffer:entry -->`: replaced by the entry script `js/app.js` with its integrity;
/// - `{{sha256.wasm}}`: replaced by the WebAssembly file's integrity, which the page passes to `fetch`.
///
/// The import map is an inline script, so the policy allows it by its hash and nothing else inline.
enum PageTemplate {
    struct Page {
        let html: String
        let contentSecurityPolicy: String
    }

    static func render(_ template: [UInt8], files: [String: WebModule.File]) throws -> Page {
        var html = String(decoding: template, as: UTF8.self)
        guard let entry = files["js/app.js"], let wasm = files["sha256.wasm"] else {
            throw WebModuleError("the browser module needs js/app.js and sha256.wasm")
        }
        for marker in ["<!-- coffer:importmap -->", "<!-- coffer:entry -->", "{{sha256.wasm}}"] where !html.contains(marker) {
            throw WebModuleError("the browser module's index.html lacks \(marker)")
        }
        let scripts = files.values.filter { $0.path.hasSuffix(".js") }.sorted { $0.path < $1.path }
        let integrity = scripts.map { "\"/\($0.path)\": \"\($0.integrity)\"" }.joined(separator: ", ")
        let importMap = "{\"integrity\": {\(integrity)}}"
        let mapHash = "sha256-" + Data(SHA256.hash(data: Array(importMap.utf8))).base64EncodedString()
        html = html.replacingOccurrences(of: "<!-- coffer:importmap -->", with: "<script type=\"importmap\">\(importMap)</script>")
        html = html.replacingOccurrences(of: "<!-- coffer:entry -->",
                                         with: "<script type=\"module\" src=\"/js/app.js\" integrity=\"\(entry.integrity)\" crossorigin=\"anonymous\"></script>")
        html = html.replacingOccurrences(of: "{{sha256.wasm}}", with: wasm.integrity)
        let policy = [
            "default-src 'self'", "script-src 'self' '\(mapHash)' 'wasm-unsafe-eval'", "style-src 'self'", "img-src 'self' blob: data:",
            "connect-src 'self'", "worker-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
        ].joined(separator: "; ")
        return Page(html: html, contentSecurityPolicy: policy)
    }
}
