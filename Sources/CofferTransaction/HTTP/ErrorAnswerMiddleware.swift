import CofferAPI
import Hummingbird
import Logging
import Synchronization

/// Makes every failure an error answer of the API (`docs/api/openapi.yaml`): a JSON `Error` body
/// with a stable code, whatever raised it.
///
/// A path that exists for other methods gets 405 with `Allow`; an unknown path 404 `not_found`; a
/// body beyond the limit 413 `too_large`; any other framework error its status with a code.
struct ErrorAnswerMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let answer = answer(error, request, context)
            TransactionMetrics.refused(code: answer.code)
            throw answer
        }
    }

    /// The API error that answers `error`.
    private func answer(_ error: any Error, _ request: Request, _ context: Context) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as any HTTPResponseError:
            return translate(error.status, (error as? HTTPError)?.body, request)
        default:
            // Anything else is a bug of ours: no library text reaches the client.
            context.logger.error("a request failed unexpectedly", metadata: ["coffer.error": "\(error)"])
            return APIError.internalError
        }
    }

    private func translate(_ status: HTTPResponse.Status, _ body: String?, _ request: Request) -> APIError {
        switch status {
        case .notFound:
            let allowed = routes.methods(for: request.uri.path)
            guard !allowed.isEmpty else {
                return APIError(.notFound, "not_found", "there is no endpoint \(request.uri.path); see docs/api/openapi.yaml")
            }
            return APIError(.methodNotAllowed, "method_not_allowed", "\(request.uri.path) takes \(allowed.joined(separator: ", ")), not \(request.method.rawValue)",
                            allow: allowed.joined(separator: ", "))
        case .contentTooLarge:
            return APIError(.contentTooLarge, "too_large", "the request body is larger than \(APIRoutes.maxBody / 1024) KiB")
        case .badRequest:
            return APIError.badRequest("the request is malformed")
        default:
            return APIError(status, status.code >= 500 ? "internal" : "bad_request", body ?? status.reasonPhrase)
        }
    }
}

/// The router's endpoints, to tell a wrong method from an unknown path.
final class RouteTable: Sendable {
    private let routes = Mutex<[(path: RouterPath, method: String)]>([])

    /// Takes the router's routes once they are all added.
    func load(_ routes: [(path: RouterPath, method: String)]) {
        self.routes.withLock { $0 = routes }
    }

    /// The methods served at `path`, in order; empty when no endpoint matches it.
    func methods(for path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        let matching = routes.withLock { routes in
            routes.filter { route in
                route.path.components.count == segments.count && zip(route.path.components, segments).allSatisfy { $0 ~= $1 }
            }.map(\.method)
        }
        return Array(Set(matching)).sorted()
    }
}
