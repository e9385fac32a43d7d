import CofferAPI
import CofferKeys
import CofferWebModule
import Crypto
import Foundation

/// The browser module the tier serves (``WebModule``), with its manifest signed once by the
/// identity key, so that anyone who pinned that key can check which module the server hands out.
struct WebService: Sendable {
    let module: WebModule
    /// ``WebManifest/statement(_:)`` signed by the identity key, DER.
    let signature: [UInt8]
    let serverKey: [UInt8]
    /// Lowercase hex SHA-256 of the manifest: what the audit log records.
    let manifestHash: String

    init(module: WebModule, keys: ServerKeys) throws {
        self.module = module
        signature = Array(try keys.signingKey.signature(for: WebManifest.statement(module.manifest)).derRepresentation)
        serverKey = Array(keys.signingKey.publicKey.derRepresentation)
        manifestHash = Hex.encode(SHA256.hash(data: module.manifest))
    }

    /// The `/v1/web/manifest` answer.
    func manifestAnswer(auditIndex: Int64?) -> WebManifestResponse {
        WebManifestResponse(manifest: Data(module.manifest).base64EncodedString(), signature: Data(signature).base64EncodedString(),
                            serverKey: Data(serverKey).base64EncodedString(), sha256: manifestHash, auditIndex: auditIndex)
    }
}
