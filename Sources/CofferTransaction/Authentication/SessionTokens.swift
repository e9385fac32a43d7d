import CofferKeys
public import Crypto
import CofferAPI
public import Foundation

/// A login session: who, from which client installation, holding which device key, since when.
public struct Session: Sendable, Hashable {
    public let user: String
    public let clientID: String
    /// The device's P-256 public key; every request of the session must be signed with its private half.
    public let deviceKey: P256.Signing.PublicKey
    /// When the token was issued (Unix ms): a logout or a password change ends the sessions issued at or before it.
    public let issuedAtMs: Int64

    public init(user: String, clientID: String, deviceKey: P256.Signing.PublicKey, issuedAtMs: Int64 = 0) {
        self.user = user
        self.clientID = clientID
        self.deviceKey = deviceKey
        self.issuedAtMs = issuedAtMs
    }

    public static func == (a: Session, b: Session) -> Bool {
        a.user == b.user && a.clientID == b.clientID && a.deviceKey.x963Representation == b.deviceKey.x963Representation
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(user)
        hasher.combine(clientID)
    }
}

/// Issues and checks stateless bearer tokens, so any transaction process can check any session.
///
/// Token: base64url(`v3|user|client id|device key|issued ms|expiry|nonce`) `.` base64url(HMAC-SHA256). The HMAC
/// key is the key backend's session key, which every transaction process of a deployment shares: derived
/// from the KEK with key files, a generic secret inside the token with a device. A token is
/// useless without the device key it names: each request must also carry that key's signature. The
/// issue time lets the database tier refuse sessions that a logout or a password change ended.
public struct SessionTokens: Sendable {
    private let mac: @Sendable ([UInt8]) throws -> [UInt8]
    private let otherMACs: @Sendable ([UInt8]) throws -> [[UInt8]]
    /// How long a session lasts.
    public let lifetime: Duration

    /// Tokens whose MAC `mac` computes (HMAC-SHA256, perhaps inside a device); it may throw when the
    /// device fails. A token whose MAC is one of `otherMACs` is accepted too: one issued under the
    /// session key of another KEK of a rotation.
    public init(mac: @escaping @Sendable ([UInt8]) throws -> [UInt8], otherMACs: @escaping @Sendable ([UInt8]) throws -> [[UInt8]] = { _ in [] },
                lifetime: Duration = .seconds(15 * 60)) {
        self.mac = mac
        self.otherMACs = otherMACs
        self.lifetime = lifetime
    }

    /// Tokens keyed by the session key derived from `kek`, as key files keep it.
    public init(kek: SymmetricKey, lifetime: Duration = .seconds(15 * 60)) {
        let key = ServerKeys.sessionKey(kek: kek)
        self.init(mac: { Array(HMAC<SHA256>.authenticationCode(for: $0, using: key)) }, lifetime: lifetime)
    }

    /// A new token for `session` and its expiry (Unix seconds); throws only when the MAC's device fails.
    public func issue(for session: Session, now: Date = Date()) throws -> (token: String, expiresAt: Int64) {
        let issuedMs = Int64(now.timeIntervalSince1970 * 1000)
        let expiresAt = issuedMs / 1000 + lifetime.components.seconds
        let nonce = Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255) })
        let device = Self.base64url(Array(session.deviceKey.x963Representation))
        let payload = Array("v3|\(session.user)|\(session.clientID)|\(device)|\(issuedMs)|\(expiresAt)|\(nonce)".utf8)
        return (Self.base64url(payload) + "." + Self.base64url(try mac(payload)), expiresAt)
    }

    /// The session of a valid, unexpired token; `nil` otherwise. Throws only when the MAC's device fails.
    public func session(for token: String, now: Date = Date()) throws -> Session? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= 1024, parts.count == 2,
              let payload = Self.unbase64url(String(parts[0])), let sent = Self.unbase64url(String(parts[1])), sent.count == 32
        else { return nil }
        guard try ConstantTime.equal(mac(payload), sent) || otherMACs(payload).contains(where: { ConstantTime.equal($0, sent) }) else { return nil }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        guard fields.count == 7, fields[0] == "v3", let issuedMs = Int64(fields[4]), issuedMs > 0,
              let expiry = Int64(fields[5]), expiry > Int64(now.timeIntervalSince1970),
              let deviceBytes = Self.unbase64url(String(fields[3])),
              let deviceKey = try? P256.Signing.PublicKey(x963Representation: deviceBytes)
        else { return nil }
        return Session(user: String(fields[1]), clientID: String(fields[2]), deviceKey: deviceKey, issuedAtMs: issuedMs)
    }

    /// RFC 4648 §5 base64url without padding. Byte-wise: Foundation's string replacing was a
    /// tenth of the transaction tier's CPU per request.
    static func base64url(_ bytes: [UInt8]) -> String {
        var out = Array(Data(bytes).base64EncodedData())
        while out.last == UInt8(ascii: "=") { out.removeLast() }
        for i in out.indices {
            if out[i] == UInt8(ascii: "+") { out[i] = UInt8(ascii: "-") } else if out[i] == UInt8(ascii: "/") { out[i] = UInt8(ascii: "_") }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func unbase64url(_ text: String) -> [UInt8]? {
        var bytes = Array(text.utf8)
        for i in bytes.indices {
            switch bytes[i] {
            case UInt8(ascii: "-"): bytes[i] = UInt8(ascii: "+")
            case UInt8(ascii: "_"): bytes[i] = UInt8(ascii: "/")
            case UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="): return nil
            default: break
            }
        }
        while bytes.count % 4 != 0 { bytes.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(bytes)).map(Array.init)
    }
}
