import CofferAPI
import CofferKeys
import CofferWebModule
import Crypto
import Foundation

/// The browser module the tier serves (``WebModule``), with its manifest signed once by the
/// identity key, so that anyone who pinned that key can check which module the server hands out.
struct WebService: Sendable {
    let module: WebModule
    /// Lowercase hex SHA-256 of the manifest: what the audit log records.
    let manifestHash: String
    /// The `/v1/web/manifest` answer, made once; only its audit index changes.
    private let answer: WebManifestResponse

    /// Signs the manifest with the identity key (a blocking call on a device: made once, at start).
    init(module: WebModule, keys: any KeyBackend) throws {
        self.module = module
        manifestHash = Hex.encode(SHA256.hash(data: module.manifest))
        let signature = try keys.sign(WebManifest.statement(module.manifest)).derRepresentation
        answer = WebManifestResponse(manifest: Data(module.manifest).base64EncodedString(), signature: signature.base64EncodedString(),
                                     serverKey: keys.signingPublicKey.derRepresentation.base64EncodedString(), sha256: manifestHash, auditIndex: nil)
    }

    /// The `/v1/web/manifest` answer.
    func manifestAnswer(auditIndex: Int64?) -> WebManifestResponse {
        var answer = self.answer
        answer.auditIndex = auditIndex
        return answer
    }
}
