import CofferAPI
import CofferWire
import Foundation
import HTTPTypes

/// Checks a signed request: the bearer token names a live session, and the device key that session
/// belongs to signed this method, path, time, nonce and body. Pure: the replay check itself is the
/// database tier's, through the replay guard it returns.
struct RequestAuthenticator: Sendable {
    let tokens: SessionTokens
    /// Where the token's MAC is checked (a device's MAC key is called off the event loop).
    let keys: any KeyBackend

    /// The request's header values, as sent.
    struct Headers {
        var bearer: String?
        var time: String?
        var nonce: String?
        var signature: String?
    }

    /// The session and replay guard of a request, or the refusal (401) that says what is wrong.
    func authenticate(method: String, path: String, body: [UInt8], headers: Headers, nowMs: Int64) async throws -> Authenticated {
        guard let bearer = headers.bearer else { throw APIError.unauthorized }
        let tokens = self.tokens
        guard let session = try await keys.perform({ try tokens.session(for: bearer) }) else { throw APIError.unauthorized }
        guard let time = headers.time, let timeMs = Int64(time), let nonce = headers.nonce, let nonceBytes = Hex.decode(nonce),
              nonceBytes.count == 16, let signature = headers.signature
        else {
            throw APIError(.unauthorized, "unsigned", "the request is not signed by the client's device key; upgrade coffer")
        }
        guard abs(timeMs - nowMs) <= RequestSignature.maxClockSkewMs else {
            throw APIError(.unauthorized, "stale", "the request's time is more than 5 minutes off the server's clock; check the clock")
        }
        guard RequestSignature.isValid(signature: signature, key: session.deviceKey, method: method, path: path, timeMs: timeMs, nonce: nonce, body: body) else {
            throw APIError(.unauthorized, "bad_signature", "the request is not signed by the device this session belongs to")
        }
        return Authenticated(session: session, replayGuard: WireMessages.replayGuard(session: session, nonce: nonceBytes, timeMs: timeMs), body: body)
    }
}
