internal import CPKCS11

/// A failure of the cryptographic device, with a sentence for the operator and, when the token
/// answered, its PKCS#11 return value.
public struct DeviceError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure: the tier refuses to start on a ``Kind/configuration`` error, answers 503
    /// on the others, and reconnects after a ``Kind/connectionLost``.
    public enum Kind: Sendable {
        /// The module, token, PIN, a key or a mechanism is missing or wrong: fix the setup.
        case configuration
        /// The token refused or failed one operation.
        case operationFailed
        /// The token or its sessions went away; the next call opens new ones.
        case connectionLost
    }

    public let kind: Kind
    /// The PKCS#11 return value (`CKR_…`), when the token gave one.
    public let returnValue: UInt?
    public let description: String
    /// Whether a key the caller named is not in the token (a ``Kind/configuration`` error): at
    /// start a setup to fix, while running a store that went away.
    public let isMissingObject: Bool

    init(_ kind: Kind, _ description: String, returnValue: UInt? = nil, isMissingObject: Bool = false) {
        self.kind = kind
        self.returnValue = returnValue
        self.description = description
        self.isMissingObject = isMissingObject
    }

    /// The error for return value `rv` of `function`, its name spelled out.
    init(_ function: String, _ rv: CK_RV) {
        let name = Self.names[UInt(rv)] ?? "CKR_0x\(String(UInt(rv), radix: 16))"
        let kind: Kind
        if Self.lost.contains(UInt(rv)) {
            kind = .connectionLost
        } else if Self.setup.contains(UInt(rv)) {
            kind = .configuration
        } else {
            kind = .operationFailed
        }
        self.init(kind, "the cryptographic device refused \(function): \(name)", returnValue: UInt(rv))
    }

    /// Whether the token refused the data it was given, not failed: a wrong tag or a wrapped key
    /// that does not unwrap under the key named.
    public var isInvalidData: Bool {
        guard let returnValue else { return false }
        return Self.invalidData.contains(returnValue)
    }

    static let invalidData: Set<UInt> = [
        UInt(CKR_ENCRYPTED_DATA_INVALID), UInt(CKR_ENCRYPTED_DATA_LEN_RANGE), UInt(CKR_WRAPPED_KEY_INVALID), UInt(CKR_WRAPPED_KEY_LEN_RANGE),
    ]

    /// Return values after which the sessions are gone and must be opened again.
    static let lost: Set<UInt> = [
        UInt(CKR_DEVICE_REMOVED), UInt(CKR_SESSION_HANDLE_INVALID), UInt(CKR_SESSION_CLOSED), UInt(CKR_TOKEN_NOT_PRESENT),
        UInt(CKR_DEVICE_ERROR), UInt(CKR_USER_NOT_LOGGED_IN), UInt(CKR_OBJECT_HANDLE_INVALID), UInt(CKR_KEY_HANDLE_INVALID),
        UInt(CKR_CRYPTOKI_NOT_INITIALIZED),
    ]

    /// Return values that mean the setup is wrong, not the moment.
    static let setup: Set<UInt> = [
        UInt(CKR_PIN_INCORRECT), UInt(CKR_PIN_LOCKED), UInt(CKR_PIN_EXPIRED), UInt(CKR_MECHANISM_INVALID),
        UInt(CKR_KEY_TYPE_INCONSISTENT), UInt(CKR_KEY_FUNCTION_NOT_PERMITTED), UInt(CKR_TOKEN_NOT_RECOGNIZED),
        UInt(CKR_SLOT_ID_INVALID), UInt(CKR_USER_PIN_NOT_INITIALIZED),
    ]

    static let names: [UInt: String] = [
        UInt(CKR_GENERAL_ERROR): "CKR_GENERAL_ERROR", UInt(CKR_HOST_MEMORY): "CKR_HOST_MEMORY",
        UInt(CKR_ARGUMENTS_BAD): "CKR_ARGUMENTS_BAD", UInt(CKR_ATTRIBUTE_SENSITIVE): "CKR_ATTRIBUTE_SENSITIVE",
        UInt(CKR_ATTRIBUTE_TYPE_INVALID): "CKR_ATTRIBUTE_TYPE_INVALID", UInt(CKR_ATTRIBUTE_VALUE_INVALID): "CKR_ATTRIBUTE_VALUE_INVALID",
        UInt(CKR_DEVICE_ERROR): "CKR_DEVICE_ERROR", UInt(CKR_DEVICE_MEMORY): "CKR_DEVICE_MEMORY",
        UInt(CKR_DEVICE_REMOVED): "CKR_DEVICE_REMOVED", UInt(CKR_ENCRYPTED_DATA_INVALID): "CKR_ENCRYPTED_DATA_INVALID",
        UInt(CKR_ENCRYPTED_DATA_LEN_RANGE): "CKR_ENCRYPTED_DATA_LEN_RANGE", UInt(CKR_FUNCTION_FAILED): "CKR_FUNCTION_FAILED",
        UInt(CKR_KEY_HANDLE_INVALID): "CKR_KEY_HANDLE_INVALID", UInt(CKR_KEY_TYPE_INCONSISTENT): "CKR_KEY_TYPE_INCONSISTENT",
        UInt(CKR_KEY_FUNCTION_NOT_PERMITTED): "CKR_KEY_FUNCTION_NOT_PERMITTED", UInt(CKR_KEY_UNEXTRACTABLE): "CKR_KEY_UNEXTRACTABLE",
        UInt(CKR_MECHANISM_INVALID): "CKR_MECHANISM_INVALID (the token lacks this mechanism)",
        UInt(CKR_MECHANISM_PARAM_INVALID): "CKR_MECHANISM_PARAM_INVALID", UInt(CKR_OBJECT_HANDLE_INVALID): "CKR_OBJECT_HANDLE_INVALID",
        UInt(CKR_OPERATION_ACTIVE): "CKR_OPERATION_ACTIVE", UInt(CKR_PIN_INCORRECT): "CKR_PIN_INCORRECT (the PIN is wrong)",
        UInt(CKR_PIN_LOCKED): "CKR_PIN_LOCKED (too many wrong PINs: the token's officer must unlock it)",
        UInt(CKR_PIN_EXPIRED): "CKR_PIN_EXPIRED", UInt(CKR_SESSION_CLOSED): "CKR_SESSION_CLOSED",
        UInt(CKR_SESSION_COUNT): "CKR_SESSION_COUNT (the token has no more sessions)",
        UInt(CKR_SESSION_HANDLE_INVALID): "CKR_SESSION_HANDLE_INVALID", UInt(CKR_SIGNATURE_INVALID): "CKR_SIGNATURE_INVALID",
        UInt(CKR_SLOT_ID_INVALID): "CKR_SLOT_ID_INVALID", UInt(CKR_TEMPLATE_INCOMPLETE): "CKR_TEMPLATE_INCOMPLETE",
        UInt(CKR_TEMPLATE_INCONSISTENT): "CKR_TEMPLATE_INCONSISTENT", UInt(CKR_TOKEN_NOT_PRESENT): "CKR_TOKEN_NOT_PRESENT",
        UInt(CKR_TOKEN_NOT_RECOGNIZED): "CKR_TOKEN_NOT_RECOGNIZED", UInt(CKR_USER_NOT_LOGGED_IN): "CKR_USER_NOT_LOGGED_IN",
        UInt(CKR_USER_PIN_NOT_INITIALIZED): "CKR_USER_PIN_NOT_INITIALIZED (the token has no user PIN yet)",
        UInt(CKR_BUFFER_TOO_SMALL): "CKR_BUFFER_TOO_SMALL", UInt(CKR_CRYPTOKI_NOT_INITIALIZED): "CKR_CRYPTOKI_NOT_INITIALIZED",
        UInt(CKR_DATA_LEN_RANGE): "CKR_DATA_LEN_RANGE", UInt(CKR_DATA_INVALID): "CKR_DATA_INVALID",
        UInt(CKR_WRAPPED_KEY_INVALID): "CKR_WRAPPED_KEY_INVALID", UInt(CKR_WRAPPED_KEY_LEN_RANGE): "CKR_WRAPPED_KEY_LEN_RANGE", UInt(CKR_WRAPPING_KEY_HANDLE_INVALID): "CKR_WRAPPING_KEY_HANDLE_INVALID",
        UInt(CKR_FUNCTION_NOT_SUPPORTED): "CKR_FUNCTION_NOT_SUPPORTED",
    ]
}

/// Throws a ``DeviceError`` unless `rv` is `CKR_OK`.
func check(_ function: String, _ rv: CK_RV) throws {
    guard rv == CK_RV(CKR_OK) else { throw DeviceError(function, rv) }
}
