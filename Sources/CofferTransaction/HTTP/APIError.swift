import CofferAPI
public import Hummingbird
import Foundation

/// An error answer of the HTTPS API: a status, a stable code and a sentence for the user.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    /// Seconds after which to retry, for 429 and 503 answers.
    public let retryAfter: Int?
    /// The methods a path takes, for 405 answers.
    public let allow: String?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, retryAfter: Int? = nil, allow: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
        self.allow = allow
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        // Sorted keys: every error answer of a kind has the same bytes but for what it echoes.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let body = try encoder.encode(ErrorResponse(code: code, message: message))
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if let allow { headers[.allow] = allow }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
    static let unauthorized = APIError(.unauthorized, "unauthorized", "the session is missing, expired or invalid; run `coffer login`")
    static func unavailable(_ message: String) -> APIError { APIError(.serviceUnavailable, "unavailable", message, retryAfter: 2) }
    static let internalError = APIError(.internalServerError, "internal", "the server failed; try again, and tell the operator if it persists")
    static let sessionEnded = APIError(.unauthorized, "session_ended", "this session was ended by a logout or a password change; run `coffer login`")
    static let lockedOut = APIError(.forbidden, "account_locked", "the account is locked after repeated failed logins; try again later or ask the operator")
    static let accountLocked = APIError(.forbidden, "account_locked", "the account is locked by an operator; ask the operator to unlock it")
}
