import CofferAPI
import CofferWebModule
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The browser module's files at the site's root (`/` is `index.html`) and `/v1/web/manifest`.
///
/// Every file answer carries the page's Content-Security-Policy and `Cache-Control: no-cache` with
/// its SHA-256 as the ETag: a browser revalidates each time, so an upgrade is picked up at the next
/// load, and a file that did not change costs a 304.
enum WebRoutes {
    static func open(_ web: WebService, published: WebPublication) -> RouteCollection<CofferRequestContext> {
        let routes = RouteCollection(context: CofferRequestContext.self)
        for file in web.module.files.values {
            let answer: @Sendable (Request, CofferRequestContext) async throws -> Response = { request, _ in
                serve(file, request: request, policy: web.module.contentSecurityPolicy)
            }
            routes.get(RouterPath(file.path), use: answer)
            if file.path == "index.html" { routes.get("/", use: answer) }
        }
        routes.get("v1/web/manifest") { _, _ -> WebManifestResponse in
            web.manifestAnswer(auditIndex: published.auditIndex)
        }
        return routes
    }

    /// What else a page answer carries: no framing, no referrer, its own browsing context group.
    static let pageHeaders: [(HTTPField.Name, String)] = [
        ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"), ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"), ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ].map { (HTTPField.Name($0.0)!, $0.1) }

    static func serve(_ file: WebModule.File, request: Request, policy: String) -> Response {
        let tag = "\"" + Hex.encode(file.sha256) + "\""
        var headers: HTTPFields = [.contentType: file.contentType, .cacheControl: "no-cache", .eTag: tag, .contentSecurityPolicy: policy]
        for (name, value) in pageHeaders { headers[name] = value }
        if request.headers[.ifNoneMatch] == tag {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}

/// Where the module's manifest entered the audit log, once the tier recorded it
/// (``TransactionServices/publishWebModule(logger:)``).
final class WebPublication: Sendable {
    private let index = Mutex<Int64?>(nil)
    var auditIndex: Int64? { index.withLock { $0 } }
    func recorded(at value: Int64) { index.withLock { $0 = value } }
}
