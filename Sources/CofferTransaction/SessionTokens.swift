public import Crypto
import CofferAPI
public import Foundation

/// Issues and checks stateless bearer tokens, so any transaction process can check any session.
///
/// Token: base64url(`v1|user|expiry|nonce`) `.` base64url(HMAC-SHA256). The HMAC key is derived
/// from the KEK, which every transaction process of a deployment shares.
public struct SessionTokens: Sendable {
    private let key: SymmetricKey
    /// How long a session lasts.
    public let lifetime: Duration

    public init(kek: SymmetricKey, lifetime: Duration = .seconds(15 * 60)) {
        self.key = HKDF<SHA256>.deriveKey(inputKeyMaterial: kek, info: Array("coffer session v1".utf8), outputByteCount: 32)
        self.lifetime = lifetime
    }

    /// A new token for `user` and its expiry (Unix seconds).
    public func issue(for user: String, now: Date = Date()) -> (token: String, expiresAt: Int64) {
        let expiresAt = Int64(now.timeIntervalSince1970) + lifetime.components.seconds
        let nonce = Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255) })
        let payload = Array("v1|\(user)|\(expiresAt)|\(nonce)".utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        return (Self.base64url(payload) + "." + Self.base64url(Array(mac)), expiresAt)
    }

    /// The user a valid, unexpired token belongs to; `nil` otherwise.
    public func user(for token: String, now: Date = Date()) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= 512, parts.count == 2,
              let payload = Self.unbase64url(String(parts[0])), let mac = Self.unbase64url(String(parts[1])),
              HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key)
        else { return nil }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0] == "v1", let expiry = Int64(fields[2]),
              expiry > Int64(now.timeIntervalSince1970)
        else { return nil }
        return String(fields[1])
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func unbase64url(_ text: String) -> [UInt8]? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init)
    }
}
