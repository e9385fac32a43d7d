import CofferTierLink
import CofferWire
import Logging
import HTTPTypes

/// The transaction tier's way to the database tier: calls go through the link (or, in a test, a
/// double of it), and what can go wrong on the link becomes the API's answer here, once.
///
/// Refusals that a caller handles (not found, forbidden, conflict) pass through as
/// ``DatabaseLinkError/refused(_:_:)``; the ones every endpoint answers alike — replayed, session
/// ended, account locked, audit failing, unavailable — become their ``APIError`` here.
struct DatabaseGateway: Sendable {
    let link: any DatabaseCalling
    let auditWrites: AuditWriteHealth
    let logger: Logger

    init(link: any DatabaseCalling, auditWrites: AuditWriteHealth = AuditWriteHealth(), logger: Logger) {
        self.link = link
        self.auditWrites = auditWrites
        self.logger = logger
    }

    /// Calls the database tier, turning link failures into API errors; refusals pass through.
    func call(_ body: WireRequest.OneOf_Body, replayGuard: Coffer_Wire_V1_ReplayGuard? = nil) async throws -> WireResponse.OneOf_Body {
        do {
            let answer = try await link.call(body, replayGuard: replayGuard)
            if WireOperation.of(body).audits { auditWrites.succeeded() }
            return answer
        } catch DatabaseLinkError.refused(.auditFailed, let why) {
            auditWrites.failed(why)
            logger.critical("the database tier could not write an audit entry; the operation did not happen", metadata: ["coffer.error": "\(why)"])
            throw APIError(.serviceUnavailable, "audit_unavailable", "the audit history could not be written, so nothing was done; retry later, and tell the operator if it persists", retryAfter: 5)
        } catch DatabaseLinkError.unavailable(let why) {
            logger.warning("database tier unavailable", metadata: ["coffer.error": "\(why)"])
            throw APIError.unavailable("the key service's database tier is unavailable (\(why)); retry shortly")
        } catch DatabaseLinkError.refused(.replayed, _) {
            throw APIError(.conflict, "replayed", "this request was already received; a replayed request is refused")
        } catch DatabaseLinkError.refused(.sessionEnded, _) {
            throw APIError.sessionEnded
        } catch DatabaseLinkError.refused(.accountLocked, _) {
            // Sessions issued before an operator locked the account get nothing more.
            throw APIError.accountLocked
        } catch DatabaseLinkError.refused(.unavailable, _) {
            throw APIError.unavailable("the key service's database is unavailable; retry shortly")
        } catch DatabaseLinkError.protocolViolation(let why) {
            logger.error("tier protocol violation", metadata: ["coffer.error": "\(why)"])
            throw APIError.internalError
        }
    }

    /// A database-tier answer the caller cannot use: logged, and 500 for the client.
    func unexpected(_ answer: WireResponse.OneOf_Body, to body: WireRequest.OneOf_Body) -> APIError {
        logger.error("the database tier answered a request with a body that does not belong to it", metadata: [
            "coffer.request": "\(WireOperation.of(body).name)",
        ])
        return APIError.internalError
    }
}
