internal import CPKCS11
import Synchronization

/// Finding, creating and reading objects of a ``Token``.
extension Token {
    /// The kinds of object Coffer keeps in a token.
    public enum ObjectClass: Sendable, CustomStringConvertible {
        case secretKey, privateKey, publicKey

        public var description: String {
            switch self {
            case .secretKey: "secret key"
            case .privateKey: "private key"
            case .publicKey: "public key"
            }
        }

        var value: UInt {
            switch self {
            case .secretKey: UInt(CKO_SECRET_KEY)
            case .privateKey: UInt(CKO_PRIVATE_KEY)
            case .publicKey: UInt(CKO_PUBLIC_KEY)
            }
        }
    }

    /// The handle of the one object of `kind` labelled `label`, in `session`: found once per epoch
    /// of the session pool (a token object's handle holds for every session of the process), so
    /// that an operation costs one call, not four; a handle gone stale fails its operation, which
    /// drops the pool and so the cache.
    func object(_ label: String, _ kind: ObjectClass, in session: CK_SESSION_HANDLE) throws -> CK_OBJECT_HANDLE {
        let key = "\(kind.value):\(label)"
        let epoch = self.epoch
        if let cached = handles.withLock({ $0[key] }), cached.epoch == epoch { return cached.handle }
        let handle = try find(label, kind, in: session)
        handles.withLock { $0[key] = (epoch, handle) }
        return handle
    }

    /// Finds the one object of `kind` labelled `label`, in `session`.
    private func find(_ label: String, _ kind: ObjectClass, in session: CK_SESSION_HANDLE) throws -> CK_OBJECT_HANDLE {
        let begin = try module.function("C_FindObjectsInit") { $0.C_FindObjectsInit }
        let find = try module.function("C_FindObjects") { $0.C_FindObjects }
        let end = try module.function("C_FindObjectsFinal") { $0.C_FindObjectsFinal }
        try Template().with(UInt(CKA_CLASS), kind.value).with(UInt(CKA_LABEL), label).withAttributes { attributes, count in
            try check("C_FindObjectsInit", begin(session, attributes, count))
        }
        var handles = [CK_OBJECT_HANDLE](repeating: 0, count: 2)
        var found: CK_ULONG = 0
        let rv = find(session, &handles, 2, &found)
        _ = end(session)
        try check("C_FindObjects", rv)
        guard found > 0 else {
            throw DeviceError(.configuration, "the token \"\(self.label)\" has no \(kind) labelled \"\(label)\"; create it with coffer-admin",
                              isMissingObject: true)
        }
        guard found == 1 else {
            throw DeviceError(.configuration, "the token \"\(self.label)\" has more than one \(kind) labelled \"\(label)\"")
        }
        return handles[0]
    }

    /// Whether the token holds an object of `kind` labelled `label`.
    public func contains(_ label: String, _ kind: ObjectClass) throws -> Bool {
        try withSession { session in
            do {
                _ = try find(label, kind, in: session)
                return true
            } catch let error as DeviceError where error.isMissingObject {
                return false
            }
        }
    }

    /// The value of attribute `type` of `handle`, or the token's refusal (a sensitive value is
    /// refused with `CKR_ATTRIBUTE_SENSITIVE`).
    func attribute(_ type: UInt, of handle: CK_OBJECT_HANDLE, in session: CK_SESSION_HANDLE) throws -> [UInt8] {
        let get = try module.function("C_GetAttributeValue") { $0.C_GetAttributeValue }
        var probe = CK_ATTRIBUTE(type: CK_ATTRIBUTE_TYPE(type), pValue: nil, ulValueLen: 0)
        try check("C_GetAttributeValue", get(session, handle, &probe, 1))
        guard probe.ulValueLen != CK_ULONG(bitPattern: -1) else {
            throw DeviceError(.operationFailed, "the token does not give attribute 0x\(String(type, radix: 16))")
        }
        var bytes = [UInt8](repeating: 0, count: Int(probe.ulValueLen))
        try bytes.withUnsafeMutableBytes { buffer in
            var attribute = CK_ATTRIBUTE(type: CK_ATTRIBUTE_TYPE(type), pValue: buffer.baseAddress, ulValueLen: CK_ULONG(buffer.count))
            try check("C_GetAttributeValue", get(session, handle, &attribute, 1))
        }
        return bytes
    }

    /// A boolean attribute of the object of `kind` labelled `label` (`CKA_SENSITIVE`,
    /// `CKA_EXTRACTABLE`, …), read in a session of its own.
    public func flag(_ type: UInt, of label: String, _ kind: ObjectClass) throws -> Bool {
        try withSession { session in
            try attribute(type, of: try object(label, kind, in: session), in: session) != [0]
        }
    }

    /// The value (`CKA_VALUE`) of the object of `kind` labelled `label`: for checking that the
    /// token refuses to give a key's value (``DeviceError/returnValue`` `CKR_ATTRIBUTE_SENSITIVE`).
    public func value(of label: String, _ kind: ObjectClass) throws -> [UInt8] {
        try withSession { session in
            try attribute(UInt(CKA_VALUE), of: try object(label, kind, in: session), in: session)
        }
    }

    /// Destroys the object of `kind` labelled `label`.
    public func destroy(_ label: String, _ kind: ObjectClass) throws {
        try withSession { session in
            let destroy = try module.function("C_DestroyObject") { $0.C_DestroyObject }
            try check("C_DestroyObject", destroy(session, try find(label, kind, in: session)))
            handles.withLock { $0["\(kind.value):\(label)"] = nil }
        }
    }
}
