import Foundation
import Hummingbird

/// Kills the process after a request to one path was handled and before its answer is written, to
/// prove that clients cope with a process that dies at the worst moment: the work is done, the
/// answer lost. Installed only when `COFFER_FAULT` is `before-answer:PATH`; never set it otherwise.
struct FaultInjectionMiddleware<Context: RequestContext>: RouterMiddleware {
    let path: String

    /// The middleware `COFFER_FAULT` asks for, if any.
    static func fromEnvironment() -> Self? {
        guard let fault = ProcessInfo.processInfo.environment["COFFER_FAULT"], fault.hasPrefix("before-answer:") else { return nil }
        return Self(path: String(fault.dropFirst("before-answer:".count)))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        if request.uri.path == path, (200..<300).contains(response.status.code) { kill(getpid(), SIGKILL) }
        return response
    }
}

/// Kills the process in the middle of an upload, once its first chunk reached the database tier
/// (`COFFER_FAULT` `mid-upload`), or makes each chunk take a quarter of a second (`slow-upload`), so
/// that a test can cut the database tier or PostgreSQL under an upload: to prove that an upload cut
/// there leaves the central copy as it was and resumes. Never set it otherwise.
enum UploadFaultInjection {
    static let fault = ProcessInfo.processInfo.environment["COFFER_FAULT"]

    static func afterChunk() async {
        switch fault {
        case "mid-upload": kill(getpid(), SIGKILL)
        case "slow-upload": try? await Task.sleep(for: .milliseconds(250))
        default: break
        }
    }
}
