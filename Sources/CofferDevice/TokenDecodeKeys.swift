internal import CPKCS11

/// Per-file key pairs made by the token and taken out of it only wrapped: a decode key first
/// exists unwrapped on the host when it is released to its owner.
extension Token {
    /// A P-256 key pair the token made, its private half wrapped under a token key.
    public struct WrappedKeyPair: Sendable {
        /// The public point, uncompressed (X9.63, 65 bytes).
        public let publicPoint: [UInt8]
        /// The private key as `C_WrapKey` gave it (`CKM_AES_KEY_WRAP_PAD` of its PKCS#8 form).
        public let wrapped: [UInt8]
    }

    /// Makes a P-256 key pair as session objects (the private half sensitive, extractable only
    /// wrapped), checks that the token refuses to give the private value, wraps the private half
    /// with the AES key `wrappingKey` (`CKM_AES_KEY_WRAP_PAD`), and destroys both halves.
    public func makeWrappedP256Pair(wrappingKey: String) throws -> WrappedKeyPair {
        let generate = try module.function("C_GenerateKeyPair") { $0.C_GenerateKeyPair }
        let wrap = try module.function("C_WrapKey") { $0.C_WrapKey }
        return try withSession { session in
            let wrapper = try object(wrappingKey, .secretKey, in: session)
            var mechanism = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(CKM_EC_KEY_PAIR_GEN), pParameter: nil, ulParameterLen: 0)
            var publicHandle: CK_OBJECT_HANDLE = 0
            var privateHandle: CK_OBJECT_HANDLE = 0
            let publicTemplate = Template().with(UInt(CKA_TOKEN), false).with(UInt(CKA_EC_PARAMS), bytes: Self.p256Parameters)
            let privateTemplate = Template().with(UInt(CKA_TOKEN), false).with(UInt(CKA_PRIVATE), true)
                .with(UInt(CKA_SENSITIVE), true).with(UInt(CKA_EXTRACTABLE), true).with(UInt(CKA_DERIVE), true)
            try publicTemplate.withAttributes { publicAttributes, publicCount in
                try privateTemplate.withAttributes { privateAttributes, privateCount in
                    try check("C_GenerateKeyPair", generate(session, &mechanism, publicAttributes, publicCount, privateAttributes, privateCount,
                                                            &publicHandle, &privateHandle))
                }
            }
            defer {
                _ = module.functions.pointee.C_DestroyObject?(session, privateHandle)
                _ = module.functions.pointee.C_DestroyObject?(session, publicHandle)
            }
            // Fail closed on a token that would give out the value of a key made sensitive.
            do {
                _ = try attribute(UInt(CKA_VALUE), of: privateHandle, in: session)
                throw DeviceError(.configuration, "the token gives out the value of a sensitive private key; refusing to use it for decode keys")
            } catch let error as DeviceError where error.returnValue == UInt(CKR_ATTRIBUTE_SENSITIVE) {}
            let point = try Self.point(try attribute(UInt(CKA_EC_POINT), of: publicHandle, in: session), length: 65,
                                       what: "a P-256 public key", label: "a generated decode key")
            var wrapMechanism = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(CKM_AES_KEY_WRAP_PAD), pParameter: nil, ulParameterLen: 0)
            // One call for a wrapped PKCS#8 P-256 key (about 150 bytes); a second only when the
            // token's form is longer (it then says how long).
            var wrapped = [UInt8](repeating: 0, count: 256)
            var length = CK_ULONG(wrapped.count)
            var rv = wrap(session, &wrapMechanism, wrapper, privateHandle, &wrapped, &length)
            if rv == CK_RV(CKR_BUFFER_TOO_SMALL) {
                wrapped = [UInt8](repeating: 0, count: Int(length))
                rv = wrap(session, &wrapMechanism, wrapper, privateHandle, &wrapped, &length)
            }
            try check("C_WrapKey", rv)
            return WrappedKeyPair(publicPoint: point, wrapped: Array(wrapped.prefix(Int(length))))
        }
    }

    /// Unwraps a private key that ``makeWrappedP256Pair(wrappingKey:)`` wrapped into a short-lived
    /// session object, reads its scalar (32 bytes) and destroys the object: the moment a decode key
    /// is released to its owner.
    public func unwrapP256Scalar(_ wrapped: [UInt8], wrappingKey: String) throws -> [UInt8] {
        let unwrap = try module.function("C_UnwrapKey") { $0.C_UnwrapKey }
        return try withSession { session in
            let wrapper = try object(wrappingKey, .secretKey, in: session)
            var mechanism = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(CKM_AES_KEY_WRAP_PAD), pParameter: nil, ulParameterLen: 0)
            var handle: CK_OBJECT_HANDLE = 0
            var input = wrapped
            try Template().with(UInt(CKA_CLASS), UInt(CKO_PRIVATE_KEY)).with(UInt(CKA_KEY_TYPE), UInt(CKK_EC)).with(UInt(CKA_TOKEN), false)
                .with(UInt(CKA_PRIVATE), true).with(UInt(CKA_SENSITIVE), false).with(UInt(CKA_EXTRACTABLE), true)
                .withAttributes { attributes, count in
                    try check("C_UnwrapKey", unwrap(session, &mechanism, wrapper, &input, CK_ULONG(input.count), attributes, count, &handle))
                }
            defer { _ = module.functions.pointee.C_DestroyObject?(session, handle) }
            var scalar = try attribute(UInt(CKA_VALUE), of: handle, in: session)
            // Some tokens drop leading zero bytes of the scalar.
            guard scalar.count <= 32 else {
                throw DeviceError(.operationFailed, "the unwrapped key is not a P-256 private key")
            }
            scalar.insert(contentsOf: [UInt8](repeating: 0, count: 32 - scalar.count), at: 0)
            return scalar
        }
    }

    /// The names of `mechanisms` (name → `CKM_…` value) that the token does not offer, so that a tier
    /// can refuse to start on a token that lacks one.
    public func missingMechanisms(_ mechanisms: [(name: String, value: UInt)]) throws -> [String] {
        let list = try module.function("C_GetMechanismList") { $0.C_GetMechanismList }
        let slot = try withSession { session in
            var info = CK_SESSION_INFO()
            try check("C_GetSessionInfo", try module.function("C_GetSessionInfo") { $0.C_GetSessionInfo }(session, &info))
            return info.slotID
        }
        var count: CK_ULONG = 0
        try check("C_GetMechanismList", list(slot, nil, &count))
        var offered = [CK_MECHANISM_TYPE](repeating: 0, count: Int(count))
        try check("C_GetMechanismList", list(slot, &offered, &count))
        let present = Set(offered.prefix(Int(count)).map { UInt($0) })
        return mechanisms.filter { !present.contains($0.value) }.map(\.name)
    }
}
