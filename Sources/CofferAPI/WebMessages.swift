import Foundation

/// `GET /v1/web/manifest` answer: the served browser module's manifest, signed by the identity key.
public struct WebManifestResponse: Codable, Sendable {
    /// Base64 of the manifest's JSON bytes (path, size and SHA-256 of every served file).
    public var manifest: String
    /// Base64 DER ECDSA P-256 signature by the identity key over `"coffer web manifest v1\n" ‖ manifest`.
    public var signature: String
    /// Base64 DER SubjectPublicKeyInfo of the identity key.
    public var serverKey: String
    /// Lowercase hex SHA-256 of the manifest bytes, as the audit log's `web_module` entry names it.
    public var sha256: String
    /// The index of that entry in the audit log, once it was written.
    public var auditIndex: Int64?

    public init(manifest: String, signature: String, serverKey: String, sha256: String, auditIndex: Int64?) {
        self.manifest = manifest
        self.signature = signature
        self.serverKey = serverKey
        self.sha256 = sha256
        self.auditIndex = auditIndex
    }
}
