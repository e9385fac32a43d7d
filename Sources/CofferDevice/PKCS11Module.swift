internal import CPKCS11
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A PKCS#11 module (the token vendor's shared library), loaded with `dlopen` and initialized once
/// for the process with OS locking, as the standard allows several threads to call it.
///
/// A module is never unloaded. It is finalized and initialized again only when a token it had
/// cannot be found any more (``reinitialize()``): that ends every session of the process, which
/// each ``Token`` then opens again.
final class PKCS11Module: @unchecked Sendable {
    /// The module's function table; immutable once loaded, and the module locks for itself.
    let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>
    let path: String

    private init(path: String, functions: UnsafeMutablePointer<CK_FUNCTION_LIST>) {
        self.path = path
        self.functions = functions
    }

    private static let loaded = NSLock()
    nonisolated(unsafe) private static var modules: [String: PKCS11Module] = [:]

    /// The module at `path`, loaded and initialized on first use.
    static func load(_ path: String) throws -> PKCS11Module {
        loaded.lock()
        defer { loaded.unlock() }
        if let module = modules[path] { return module }
        guard FileManager.default.fileExists(atPath: path) else {
            throw DeviceError(.configuration, "the PKCS#11 module \(path) does not exist")
        }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw DeviceError(.configuration, "cannot load the PKCS#11 module \(path): \(String(cString: dlerror()))")
        }
        guard let symbol = dlsym(handle, "C_GetFunctionList") else {
            throw DeviceError(.configuration, "\(path) is not a PKCS#11 module (it has no C_GetFunctionList)")
        }
        let getFunctionList = unsafeBitCast(symbol, to: CK_C_GetFunctionList.self)
        var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
        try check("C_GetFunctionList", getFunctionList(&list))
        guard let list, let initialize = list.pointee.C_Initialize else {
            throw DeviceError(.configuration, "\(path) gave no PKCS#11 function list")
        }
        let rv = Self.initialize(initialize)
        // Another part of the process may have initialized it already; that is the same library.
        if rv != CK_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED) { try check("C_Initialize", rv) }
        let module = PKCS11Module(path: path, functions: list)
        modules[path] = module
        return module
    }

    private static func initialize(_ initialize: CK_C_Initialize) -> CK_RV {
        var arguments = CK_C_INITIALIZE_ARGS()
        arguments.flags = CK_FLAGS(CKF_OS_LOCKING_OK)
        return initialize(&arguments)
    }

    /// `C_Finalize` then `C_Initialize` (at most once a second while it is initialized), so that
    /// the module looks for its tokens again after one went away; every session of the process
    /// ends. An initialization that failed is tried again at every call. Whether it is initialized.
    func reinitialize() -> Bool {
        Self.loaded.lock()
        defer { Self.loaded.unlock() }
        let now = ContinuousClock.now
        if initialized {
            if let last = lastReinitialization, now - last < .seconds(1) { return true }
            _ = functions.pointee.C_Finalize?(nil)
        }
        lastReinitialization = now
        guard let initialize = functions.pointee.C_Initialize else { return false }
        let rv = Self.initialize(initialize)
        initialized = rv == CK_RV(CKR_OK) || rv == CK_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED)
        return initialized
    }

    private var lastReinitialization: ContinuousClock.Instant?
    private var initialized = true

    /// The function `name` of the table, or a configuration error when the module lacks it.
    func function<F>(_ name: String, _ pick: (CK_FUNCTION_LIST) -> F?) throws -> F {
        guard let function = pick(functions.pointee) else {
            throw DeviceError(.configuration, "the PKCS#11 module \(path) does not offer \(name)")
        }
        return function
    }
}
