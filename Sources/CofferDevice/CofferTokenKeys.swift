internal import CPKCS11

/// The keys a Coffer deployment keeps in its token, by label, and the mechanisms they need:
/// `coffer-admin init` makes them, the transaction tier finds them.
public enum CofferTokenKeys {
    /// AES-256, encrypt/decrypt: AES-GCM over wrapped decode keys, bound to record, owner and generation.
    public static let kek = "coffer-kek"
    /// AES-256, wrap/unwrap: AES key wrap with padding of the per-file private keys the token makes.
    public static let wrapping = "coffer-wrap"
    /// P-256 pair: the identity challenge, receipts, RFC 3161 tokens, the module manifest.
    public static let signing = "coffer-signing"
    /// Generic secret: HMAC-SHA256 of session tokens.
    public static let session = "coffer-session"
    /// Ed25519 pair: the audit log's checkpoints.
    public static let checkpoint = "coffer-checkpoint"
    /// P-256 pair: the TLS server key, used when the tier's `tls-key` is `token`.
    public static let tls = "coffer-tls"

    /// Every mechanism the tier asks of the token, with what needs it.
    public static let mechanisms: [(name: String, value: UInt, use: String)] = [
        ("CKM_AES_GCM", UInt(CKM_AES_GCM), "the KEK"),
        ("CKM_AES_KEY_WRAP_PAD", UInt(CKM_AES_KEY_WRAP_PAD), "wrapping per-file decode keys"),
        ("CKM_EC_KEY_PAIR_GEN", UInt(CKM_EC_KEY_PAIR_GEN), "per-file key pairs"),
        ("CKM_ECDSA", UInt(CKM_ECDSA), "the signing key"),
        ("CKM_SHA256_HMAC", UInt(CKM_SHA256_HMAC), "the session-token key"),
        ("CKM_EDDSA", UInt(CKM_EDDSA), "the checkpoint key"),
    ]

    /// The keys by label and kind, with what each is for.
    public static let objects: [(label: String, kind: Token.ObjectClass, use: String)] = [
        (kek, .secretKey, "the KEK"), (wrapping, .secretKey, "the decode-key wrapping key"),
        (signing, .privateKey, "the signing key"), (signing, .publicKey, "the signing key's public half"),
        (session, .secretKey, "the session-token key"),
        (checkpoint, .privateKey, "the checkpoint key"), (checkpoint, .publicKey, "the checkpoint key's public half"),
        (tls, .privateKey, "the TLS key"), (tls, .publicKey, "the TLS key's public half"),
    ]

    /// Checks that `token` offers every mechanism and holds every key; the first problem, as one
    /// line for the operator, or nil.
    public static func problem(in token: Token) throws -> String? {
        try mechanismProblem(in: token) ?? keyProblem(in: token)
    }

    /// The mechanisms `token` lacks, as one line for the operator, or nil: checked before any key is made.
    public static func mechanismProblem(in token: Token) throws -> String? {
        let missing = try token.missingMechanisms(mechanisms.map { ($0.name, $0.value) })
        guard let first = mechanisms.first(where: { missing.contains($0.name) }) else { return nil }
        return "the token \"\(token.label)\" lacks \(first.name), needed for \(first.use)"
            + (missing.count > 1 ? " (it also lacks \(missing.dropFirst().joined(separator: ", ")))" : "") + "; docs/DEPLOYMENT.md lists what Coffer needs"
    }

    /// The first key `token` does not hold, as one line for the operator, or nil.
    public static func keyProblem(in token: Token) throws -> String? {
        for object in objects where try !token.contains(object.label, object.kind) {
            return "the token \"\(token.label)\" has no \(object.kind) labelled \"\(object.label)\" (\(object.use)); create the keys with coffer-admin init --pkcs11-module"
        }
        return nil
    }
}
