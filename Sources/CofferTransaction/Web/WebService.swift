import CofferAPI
import CofferKeys
import CofferWebModule
import Crypto
import Foundation

/// The browser module the tier serves (``WebModule``), with its manifest signed once by the
/// identity key, so that anyone who pinned that key can check which module the server hands out;
/// during an identity rotation also by the next key, whose answer is served from its moment on.
struct WebService: Sendable {
    let module: WebModule
    /// Lowercase hex SHA-256 of the manifest: what the audit log records.
    let manifestHash: String
    /// The `/v1/web/manifest` answer, made once by the identity key; only the audit index changes.
    private let answer: WebManifestResponse
    /// The answer made by a rotation's next key, and from when it is served.
    private let nextAnswer: (answer: WebManifestResponse, from: Int64)?

    /// Signs the manifest with the identity keys (a blocking call on a device: made once, at start).
    init(module: WebModule, identity: IdentityKeys) throws {
        self.module = module
        let hash = Hex.encode(SHA256.hash(data: module.manifest))
        manifestHash = hash
        func signed(by signer: IdentityKeys.Signer) throws -> WebManifestResponse {
            let signature = try signer.sign(WebManifest.statement(module.manifest)).derRepresentation
            return WebManifestResponse(manifest: Data(module.manifest).base64EncodedString(), signature: signature.base64EncodedString(),
                                       serverKey: signer.publicKey.derRepresentation.base64EncodedString(), sha256: hash, auditIndex: nil)
        }
        answer = try signed(by: identity.current)
        nextAnswer = try identity.next.map { (try signed(by: $0.signer), $0.from) }
    }

    /// The `/v1/web/manifest` answer of the identity key in force.
    func manifestAnswer(auditIndex: Int64?) -> WebManifestResponse {
        var answer = nextAnswer.flatMap { Clock.nowMs() >= $0.from ? $0.answer : nil } ?? self.answer
        answer.auditIndex = auditIndex
        return answer
    }
}
