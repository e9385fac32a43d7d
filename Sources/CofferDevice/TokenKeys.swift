internal import CPKCS11

/// Making and importing the token keys Coffer keeps: every one is a token object, private,
/// sensitive and never extractable, allowed exactly one use.
extension Token {
    /// The one use a secret key is allowed.
    public enum SecretKeyUse: Sendable {
        /// AES-256 for `C_Encrypt` and `C_Decrypt` (the KEK: AES-GCM with associated data).
        case encryption
        /// AES-256 for `C_WrapKey` and `C_UnwrapKey` (AES key wrap with padding of decode keys).
        case wrapping
        /// A generic secret for `CKM_SHA256_HMAC` (the session-token MAC key).
        case mac

        var keyType: UInt { self == .mac ? UInt(CKK_GENERIC_SECRET) : UInt(CKK_AES) }
    }

    /// The DER of Ed25519's OID (1.3.101.112), as `CKA_EC_PARAMS` names it.
    static let ed25519Parameters: [UInt8] = [0x06, 0x03, 0x2B, 0x65, 0x70]

    /// Creates a 32-byte secret key `label` for `use` in the token.
    /// - Returns: The key's `CKA_ID`, 8 random bytes.
    @discardableResult
    public func generateSecretKey(label: String, use: SecretKeyUse) throws -> [UInt8] {
        let id = Self.newID()
        let generate = try module.function("C_GenerateKey") { $0.C_GenerateKey }
        let kind = use == .mac ? CKM_GENERIC_SECRET_KEY_GEN : CKM_AES_KEY_GEN
        try withSession { session in
            var mechanism = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(kind), pParameter: nil, ulParameterLen: 0)
            var handle: CK_OBJECT_HANDLE = 0
            try Self.secretKeyTemplate(label, id: id, use: use).with(UInt(CKA_VALUE_LEN), UInt(32)).withAttributes { attributes, count in
                try check("C_GenerateKey", generate(session, &mechanism, attributes, count, &handle))
            }
        }
        return id
    }

    /// Creates the secret key `label` for `use` from `value` (an existing deployment's key), sensitive
    /// and never extractable from then on.
    /// - Returns: The key's `CKA_ID`, 8 random bytes.
    @discardableResult
    public func importSecretKey(label: String, use: SecretKeyUse, value: [UInt8]) throws -> [UInt8] {
        let id = Self.newID()
        try create(Self.secretKeyTemplate(label, id: id, use: use).with(UInt(CKA_CLASS), UInt(CKO_SECRET_KEY))
            .with(UInt(CKA_VALUE), bytes: value))
        return id
    }

    static func secretKeyTemplate(_ label: String, id: [UInt8], use: SecretKeyUse) -> Template {
        Self.keyTemplate(label, id: id).with(UInt(CKA_KEY_TYPE), use.keyType)
            .with(UInt(CKA_ENCRYPT), use == .encryption).with(UInt(CKA_DECRYPT), use == .encryption)
            .with(UInt(CKA_WRAP), use == .wrapping).with(UInt(CKA_UNWRAP), use == .wrapping)
            .with(UInt(CKA_SIGN), use == .mac).with(UInt(CKA_VERIFY), use == .mac)
    }

    /// What every long-lived private or secret key of Coffer is: a token object behind the login,
    /// sensitive, never extractable.
    static func keyTemplate(_ label: String, id: [UInt8]) -> Template {
        Template().with(UInt(CKA_LABEL), label).with(UInt(CKA_ID), bytes: id).with(UInt(CKA_TOKEN), true).with(UInt(CKA_PRIVATE), true)
            .with(UInt(CKA_SENSITIVE), true).with(UInt(CKA_EXTRACTABLE), false)
    }

    /// A fresh `CKA_ID`: 8 random bytes, shared by the halves of a pair.
    static func newID() -> [UInt8] { (0..<8).map { _ in UInt8.random(in: 0...255) } }

    /// The `CKA_ID` of the object of `kind` labelled `label`.
    public func identifier(of label: String, _ kind: ObjectClass) throws -> [UInt8] {
        try withSession { session in try attribute(UInt(CKA_ID), of: try object(label, kind, in: session), in: session) }
    }

    /// Creates a P-256 signing key pair `label` in the token; returns its `CKA_ID`.
    @discardableResult
    public func generateP256SigningKey(label: String) throws -> [UInt8] {
        try generatePair(label, mechanism: CKM_EC_KEY_PAIR_GEN, parameters: Self.p256Parameters)
    }

    /// Creates an Ed25519 signing key pair `label` in the token (`CKM_EC_EDWARDS_KEY_PAIR_GEN`);
    /// returns its `CKA_ID`.
    @discardableResult
    public func generateEd25519SigningKey(label: String) throws -> [UInt8] {
        try generatePair(label, mechanism: CKM_EC_EDWARDS_KEY_PAIR_GEN, parameters: Self.ed25519Parameters)
    }

    private func generatePair(_ label: String, mechanism kind: UInt, parameters: [UInt8]) throws -> [UInt8] {
        let id = Self.newID()
        let generate = try module.function("C_GenerateKeyPair") { $0.C_GenerateKeyPair }
        try withSession { session in
            var mechanism = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(kind), pParameter: nil, ulParameterLen: 0)
            var publicHandle: CK_OBJECT_HANDLE = 0
            var privateHandle: CK_OBJECT_HANDLE = 0
            let publicTemplate = Template().with(UInt(CKA_LABEL), label).with(UInt(CKA_ID), bytes: id).with(UInt(CKA_TOKEN), true)
                .with(UInt(CKA_VERIFY), true).with(UInt(CKA_EC_PARAMS), bytes: parameters)
            try publicTemplate.withAttributes { publicAttributes, publicCount in
                try Self.keyTemplate(label, id: id).with(UInt(CKA_SIGN), true).withAttributes { privateAttributes, privateCount in
                    try check("C_GenerateKeyPair", generate(session, &mechanism, publicAttributes, publicCount, privateAttributes, privateCount,
                                                            &publicHandle, &privateHandle))
                }
            }
        }
        return id
    }

    /// Creates the P-256 signing key pair `label` from an existing deployment's key: its private
    /// scalar (32 bytes) and public point (X9.63, 65 bytes).
    @discardableResult
    public func importP256SigningKey(label: String, scalar: [UInt8], publicPoint: [UInt8]) throws -> [UInt8] {
        try importPair(label, keyType: UInt(CKK_EC), parameters: Self.p256Parameters, value: scalar, point: publicPoint)
    }

    /// Creates the Ed25519 signing key pair `label` from an existing deployment's key: its 32-byte
    /// seed and public key.
    @discardableResult
    public func importEd25519SigningKey(label: String, seed: [UInt8], publicKey: [UInt8]) throws -> [UInt8] {
        try importPair(label, keyType: UInt(CKK_EC_EDWARDS), parameters: Self.ed25519Parameters, value: seed, point: publicKey)
    }

    private func importPair(_ label: String, keyType: UInt, parameters: [UInt8], value: [UInt8], point: [UInt8]) throws -> [UInt8] {
        // CKA_EC_POINT is the DER OCTET STRING of the point.
        let octetString = [0x04, UInt8(point.count)] + point
        let id = Self.newID()
        try create(Template().with(UInt(CKA_CLASS), UInt(CKO_PUBLIC_KEY)).with(UInt(CKA_KEY_TYPE), keyType).with(UInt(CKA_LABEL), label)
            .with(UInt(CKA_ID), bytes: id).with(UInt(CKA_TOKEN), true).with(UInt(CKA_VERIFY), true).with(UInt(CKA_EC_PARAMS), bytes: parameters)
            .with(UInt(CKA_EC_POINT), bytes: octetString))
        do {
            try create(Self.keyTemplate(label, id: id).with(UInt(CKA_CLASS), UInt(CKO_PRIVATE_KEY)).with(UInt(CKA_KEY_TYPE), keyType)
                .with(UInt(CKA_SIGN), true).with(UInt(CKA_EC_PARAMS), bytes: parameters).with(UInt(CKA_VALUE), bytes: value))
        } catch {
            try? destroy(label, .publicKey)
            throw error
        }
        return id
    }

    private func create(_ template: Template) throws {
        let create = try module.function("C_CreateObject") { $0.C_CreateObject }
        try withSession { session in
            var handle: CK_OBJECT_HANDLE = 0
            try template.withAttributes { attributes, count in
                try check("C_CreateObject", create(session, attributes, count, &handle))
            }
        }
    }
}
