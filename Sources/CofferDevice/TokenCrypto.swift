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
        let signature = try sign(label, .privateKey, mechanism: CKM_ECDSA, input: digest, capacity: 64)
        guard signature.count == 64 else { throw DeviceError(.operationFailed, "the token gave a \(signature.count)-byte ECDSA signature, not a P-256 one") }
        return signature
    }

    /// Signs `message` with the Ed25519 private key `label` (`CKM_EDDSA`): 64 bytes.
    public func signEd25519(key label: String, message: [UInt8]) throws -> [UInt8] {
        let signature = try sign(label, .privateKey, mechanism: CKM_EDDSA, input: message, capacity: 64)
        guard signature.count == 64 else { throw DeviceError(.operationFailed, "the token gave a \(signature.count)-byte EdDSA signature, not an Ed25519 one") }
        return signature
    }

    /// HMAC-SHA256 of `data` with the generic secret key `label` (`CKM_SHA256_HMAC`): 32 bytes.
    public func hmacSHA256(key label: String, data: [UInt8]) throws -> [UInt8] {
        let mac = try sign(label, .secretKey, mechanism: CKM_SHA256_HMAC, input: data, capacity: 32)
        guard mac.count == 32 else { throw DeviceError(.operationFailed, "the token gave a \(mac.count)-byte HMAC-SHA256") }
        return mac
    }

    private func sign(_ label: String, _ kind: ObjectClass, mechanism type: UInt, input: [UInt8], capacity: Int) throws -> [UInt8] {
        let start = try module.function("C_SignInit") { $0.C_SignInit }
        let sign = try module.function("C_Sign") { $0.C_Sign }
        return try withSession { session in
            let key = try object(label, kind, in: session)
            var mechanism = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(type), pParameter: nil, ulParameterLen: 0)
            try check("C_SignInit", start(session, &mechanism, key))
            var input = input
            var signature = [UInt8](repeating: 0, count: capacity)
            var length = CK_ULONG(signature.count)
            try check("C_Sign", sign(session, &input, CK_ULONG(input.count), &signature, &length))
            return Array(signature.prefix(Int(length)))
        }
    }

    /// The public point of the P-256 key pair `label`, uncompressed (X9.63, 65 bytes).
    public func publicPoint(key label: String) throws -> [UInt8] {
        try Self.point(try publicPointAttribute(label), length: 65, what: "a P-256 public key", label: label)
    }

    /// The Ed25519 public key of the key pair `label`, 32 bytes.
    public func ed25519PublicKey(key label: String) throws -> [UInt8] {
        try Self.point(try publicPointAttribute(label), length: 32, what: "an Ed25519 public key", label: label)
    }

    private func publicPointAttribute(_ label: String) throws -> [UInt8] {
        try withSession { session in try attribute(UInt(CKA_EC_POINT), of: try object(label, .publicKey, in: session), in: session) }
    }

    /// The point of `length` bytes in a `CKA_EC_POINT` value: the DER OCTET STRING of the point, or
    /// (some tokens) the bare point. A P-256 point is uncompressed (it starts with 4).
    static func point(_ value: [UInt8], length: Int, what: String, label: String) throws -> [UInt8] {
        let point = value.count == length ? value
            : value.count == length + 2 && value[0] == 0x04 && Int(value[1]) == length ? Array(value[2...]) : []
        guard point.count == length, length != 65 || point[0] == 0x04 else {
            throw DeviceError(.operationFailed, "the token's key \"\(label)\" is not \(what)")
        }
        return point
    }
}
