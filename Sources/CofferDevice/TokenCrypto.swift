internal import CPKCS11

/// The operations Coffer asks of a token: AES-256-GCM with a token key, ECDSA P-256 signatures,
/// and making keys that never leave it in the clear.
extension Token {
    /// The DER of the P-256 curve's OID (1.2.840.10045.3.1.7), as `CKA_EC_PARAMS` names it.
    static let p256Parameters: [UInt8] = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]

    /// AES-GCM encrypts `plaintext` with the secret key `label`: ciphertext ‖ 16-byte tag.
    public func sealGCM(key label: String, nonce: [UInt8], plaintext: [UInt8], authenticating aad: [UInt8]) throws -> [UInt8] {
        try gcm(label, nonce: nonce, aad: aad, input: plaintext, extra: 16, name: "C_Encrypt") { f in (f.C_EncryptInit, f.C_Encrypt) }
    }

    /// AES-GCM decrypts ciphertext ‖ tag with the secret key `label`; the token refuses a wrong tag.
    public func openGCM(key label: String, nonce: [UInt8], sealed: [UInt8], authenticating aad: [UInt8]) throws -> [UInt8] {
        try gcm(label, nonce: nonce, aad: aad, input: sealed, extra: 0, name: "C_Decrypt") { f in (f.C_DecryptInit, f.C_Decrypt) }
    }

    private typealias CryptInit = @convention(c) (CK_SESSION_HANDLE, UnsafeMutablePointer<CK_MECHANISM>?, CK_OBJECT_HANDLE) -> CK_RV
    private typealias Crypt = @convention(c) (CK_SESSION_HANDLE, UnsafeMutablePointer<UInt8>?, CK_ULONG, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<CK_ULONG>?) -> CK_RV

    private func gcm(_ label: String, nonce: [UInt8], aad: [UInt8], input: [UInt8], extra: Int, name: String,
                     _ pick: (CK_FUNCTION_LIST) -> (CryptInit?, Crypt?)) throws -> [UInt8] {
        let (start, run) = pick(module.functions.pointee)
        guard let start, let run else { throw DeviceError(.configuration, "the PKCS#11 module \(module.path) does not offer \(name)") }
        return try withSession { session in
            let key = try object(label, .secretKey, in: session)
            var iv = nonce
            var data = aad
            var input = input
            var output = [UInt8](repeating: 0, count: input.count + extra)
            var length = CK_ULONG(output.count)
            try iv.withUnsafeMutableBufferPointer { iv in
                try data.withUnsafeMutableBufferPointer { data in
                    var parameters = CK_GCM_PARAMS(pIv: iv.baseAddress, ulIvLen: CK_ULONG(iv.count), ulIvBits: CK_ULONG(iv.count * 8),
                                                   pAAD: data.baseAddress, ulAADLen: CK_ULONG(data.count), ulTagBits: 128)
                    try withUnsafeMutableBytes(of: &parameters) { raw in
                        var mechanism = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(CKM_AES_GCM), pParameter: raw.baseAddress,
                                                     ulParameterLen: CK_ULONG(raw.count))
                        try check(name + "Init", start(session, &mechanism, key))
                    }
                }
            }
            let rv = input.withUnsafeMutableBufferPointer { input in
                output.withUnsafeMutableBufferPointer { output in
                    run(session, input.baseAddress, CK_ULONG(input.count), output.baseAddress, &length)
                }
            }
            input.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            try check(name, rv)
            return Array(output.prefix(Int(length)))
        }
    }

    /// Signs a SHA-256 `digest` with the private key `label` (`CKM_ECDSA`: the token signs the
    /// digest it is given): the signature as r ‖ s, 64 bytes.
    public func signECDSA(key label: String, digest: [UInt8]) throws -> [UInt8] {
        let start = try module.function("C_SignInit") { $0.C_SignInit }
        let sign = try module.function("C_Sign") { $0.C_Sign }
        return try withSession { session in
            let key = try object(label, .privateKey, in: session)
            var mechanism = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(CKM_ECDSA), pParameter: nil, ulParameterLen: 0)
            try check("C_SignInit", start(session, &mechanism, key))
            var input = digest
            var signature = [UInt8](repeating: 0, count: 64)
            var length = CK_ULONG(signature.count)
            try check("C_Sign", sign(session, &input, CK_ULONG(input.count), &signature, &length))
            guard length == 64 else { throw DeviceError(.operationFailed, "the token gave a \(length)-byte ECDSA signature, not a P-256 one") }
            return signature
        }
    }

    /// The public point of the P-256 key pair `label`, uncompressed (X9.63, 65 bytes).
    public func publicPoint(key label: String) throws -> [UInt8] {
        let der = try withSession { session in
            try attribute(UInt(CKA_EC_POINT), of: try object(label, .publicKey, in: session), in: session)
        }
        // CKA_EC_POINT is the DER OCTET STRING of the point (some tokens give the bare point).
        if der.count == 65, der[0] == 0x04 { return der }
        guard der.count == 67, der[0] == 0x04, der[1] == 65, der[2] == 0x04 else {
            throw DeviceError(.operationFailed, "the token's key \"\(label)\" is not a P-256 public key")
        }
        return Array(der[2...])
    }

    /// Creates an AES-256 key `label` in the token: sensitive, never extractable, for encryption
    /// and decryption only.
    public func generateAESKey(label: String) throws {
        let generate = try module.function("C_GenerateKey") { $0.C_GenerateKey }
        try withSession { session in
            var mechanism = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(CKM_AES_KEY_GEN), pParameter: nil, ulParameterLen: 0)
            var handle: CK_OBJECT_HANDLE = 0
            try Self.secretKeyTemplate(label).with(UInt(CKA_VALUE_LEN), UInt(32)).withAttributes { attributes, count in
                try check("C_GenerateKey", generate(session, &mechanism, attributes, count, &handle))
            }
        }
    }

    /// Creates the AES-256 key `label` in the token from `value` (an existing deployment's KEK),
    /// sensitive and never extractable from then on.
    public func importAESKey(label: String, value: [UInt8]) throws {
        precondition(value.count == 32, "an AES-256 key has 32 bytes")
        let create = try module.function("C_CreateObject") { $0.C_CreateObject }
        try withSession { session in
            var handle: CK_OBJECT_HANDLE = 0
            try Self.secretKeyTemplate(label).with(UInt(CKA_CLASS), UInt(CKO_SECRET_KEY)).with(UInt(CKA_KEY_TYPE), UInt(CKK_AES))
                .with(UInt(CKA_VALUE), bytes: value).withAttributes { attributes, count in
                    try check("C_CreateObject", create(session, attributes, count, &handle))
                }
        }
    }

    static func secretKeyTemplate(_ label: String) -> Template {
        Template().with(UInt(CKA_LABEL), label).with(UInt(CKA_TOKEN), true).with(UInt(CKA_PRIVATE), true)
            .with(UInt(CKA_SENSITIVE), true).with(UInt(CKA_EXTRACTABLE), false)
            .with(UInt(CKA_ENCRYPT), true).with(UInt(CKA_DECRYPT), true)
            .with(UInt(CKA_WRAP), false).with(UInt(CKA_UNWRAP), false).with(UInt(CKA_SIGN), false).with(UInt(CKA_VERIFY), false)
    }

    /// Creates a P-256 signing key pair `label` in the token; the private half is sensitive and
    /// never extractable.
    public func generateP256SigningKey(label: String) throws {
        let generate = try module.function("C_GenerateKeyPair") { $0.C_GenerateKeyPair }
        try withSession { session in
            var mechanism = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(CKM_EC_KEY_PAIR_GEN), pParameter: nil, ulParameterLen: 0)
            var publicHandle: CK_OBJECT_HANDLE = 0
            var privateHandle: CK_OBJECT_HANDLE = 0
            let publicTemplate = Template().with(UInt(CKA_LABEL), label).with(UInt(CKA_TOKEN), true).with(UInt(CKA_VERIFY), true)
                .with(UInt(CKA_EC_PARAMS), bytes: Self.p256Parameters)
            let privateTemplate = Template().with(UInt(CKA_LABEL), label).with(UInt(CKA_TOKEN), true).with(UInt(CKA_PRIVATE), true)
                .with(UInt(CKA_SENSITIVE), true).with(UInt(CKA_EXTRACTABLE), false).with(UInt(CKA_SIGN), true)
            try publicTemplate.withAttributes { publicAttributes, publicCount in
                try privateTemplate.withAttributes { privateAttributes, privateCount in
                    try check("C_GenerateKeyPair", generate(session, &mechanism, publicAttributes, publicCount, privateAttributes, privateCount,
                                                            &publicHandle, &privateHandle))
                }
            }
        }
    }
}
