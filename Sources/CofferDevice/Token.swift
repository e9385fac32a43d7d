internal import CPKCS11
import Foundation
import Synchronization

/// One token of a PKCS#11 module, found by its label and logged in with the user PIN, with a
/// bounded pool of sessions: one caller per session at a time, as the standard asks.
///
/// When the token or its sessions go away (``DeviceError/Kind/connectionLost``), the pool is
/// dropped and the next call finds the token again, opens new sessions and logs in, so a device
/// that comes back is used again without a restart.
///
/// Every call blocks its thread: call it off the event loops and the cooperative pool.
public final class Token: Sendable {
    let module: PKCS11Module
    public let label: String
    private let pin: [UInt8]
    private let slots: DispatchSemaphore

    private struct Pool {
        var slot: CK_SLOT_ID?
        var idle: [CK_SESSION_HANDLE] = []
        /// Bumped whenever the sessions are dropped, so that cached object handles are found again.
        var epoch = 0
        /// Whether the token was found once: when it cannot be found again, the module is
        /// initialized anew, as some modules list their tokens only at `C_Initialize`.
        var wasFound = false
    }
    private let pool = Mutex(Pool())
    /// Object handles found in the current epoch, by class and label (``object(_:_:in:)``).
    let handles = Mutex<[String: (epoch: Int, handle: CK_OBJECT_HANDLE)]>([:])

    /// Loads `modulePath`, finds the token labelled `label` and logs in with `pin`, failing with a
    /// ``DeviceError/Kind/configuration`` error that names what is wrong.
    /// - Parameter sessions: How many sessions the pool may open (calls beyond that wait).
    public init(modulePath: String, label: String, pin: [UInt8], sessions: Int = 4) throws {
        precondition(sessions > 0)
        self.module = try PKCS11Module.load(modulePath)
        self.label = label
        self.pin = pin
        self.slots = DispatchSemaphore(value: sessions)
        // Open and log in one session now, so that a wrong setup fails at start.
        try withSession { _ in }
    }

    /// The number of times the sessions were dropped and opened again.
    var epoch: Int { pool.withLock { $0.epoch } }

    /// Runs `body` with a logged-in session of its own. A lost connection, or a key that was there
    /// and is not found (the device's store went away), drops every session (the next call
    /// reconnects) and is rethrown.
    func withSession<T>(_ body: (CK_SESSION_HANDLE) throws -> T) throws -> T {
        slots.wait()
        defer { slots.signal() }
        let (session, epoch) = try take()
        do {
            let result = try body(session)
            give(back: session, epoch: epoch)
            return result
        } catch let error as DeviceError where error.kind == .connectionLost || error.isMissingObject {
            drop(session, epoch: epoch)
            throw error
        } catch {
            give(back: session, epoch: epoch)
            throw error
        }
    }

    /// An idle session, or a new one (finding the token and logging in when there is none yet),
    /// with the epoch it belongs to.
    private func take() throws -> (CK_SESSION_HANDLE, Int) {
        let (reused, slot, epoch) = pool.withLock { pool -> (CK_SESSION_HANDLE?, CK_SLOT_ID?, Int) in
            (pool.idle.popLast(), pool.slot, pool.epoch)
        }
        if let reused { return (reused, epoch) }
        let found: CK_SLOT_ID
        if let slot {
            found = slot
        } else {
            do {
                found = try findSlot()
            } catch let error as DeviceError where pool.withLock({ $0.wasFound }) {
                // The token was there before: let the module look for its tokens again.
                guard module.reinitialize() else { throw DeviceError(.connectionLost, "\(error); the module could not be initialized again") }
                found = try findSlot()
            }
        }
        let session = try openSession(found)
        pool.withLock {
            $0.slot = $0.epoch == epoch ? found : $0.slot
            $0.wasFound = true
        }
        return (session, epoch)
    }

    /// Returns a session to the pool, or closes it when the pool was dropped meanwhile.
    private func give(back session: CK_SESSION_HANDLE, epoch: Int) {
        let kept = pool.withLock { pool -> Bool in
            guard pool.epoch == epoch else { return false }
            pool.idle.append(session)
            return true
        }
        if !kept { _ = module.functions.pointee.C_CloseSession?(session) }
    }

    private func findSlot() throws -> CK_SLOT_ID {
        let getSlots = try module.function("C_GetSlotList") { $0.C_GetSlotList }
        let getInfo = try module.function("C_GetTokenInfo") { $0.C_GetTokenInfo }
        var count: CK_ULONG = 0
        try check("C_GetSlotList", getSlots(CK_BBOOL(CK_TRUE), nil, &count))
        var ids = [CK_SLOT_ID](repeating: 0, count: Int(count))
        try check("C_GetSlotList", getSlots(CK_BBOOL(CK_TRUE), &ids, &count))
        var labels: [String] = []
        for id in ids.prefix(Int(count)) {
            var info = CK_TOKEN_INFO()
            guard getInfo(id, &info) == CK_RV(CKR_OK) else { continue }
            let text = withUnsafeBytes(of: info.label) { String(decoding: $0, as: UTF8.self) }.trimmingCharacters(in: .whitespaces)
            if text == label { return id }
            if !text.isEmpty { labels.append(text) }
        }
        let present = labels.isEmpty ? "no token is present" : "present: " + labels.map { "\"\($0)\"" }.joined(separator: ", ")
        throw DeviceError(.configuration, "the PKCS#11 module \(module.path) has no token labelled \"\(label)\" (\(present))")
    }

    private func openSession(_ slot: CK_SLOT_ID) throws -> CK_SESSION_HANDLE {
        let open = try module.function("C_OpenSession") { $0.C_OpenSession }
        let login = try module.function("C_Login") { $0.C_Login }
        var session: CK_SESSION_HANDLE = 0
        try check("C_OpenSession", open(slot, CK_FLAGS(CKF_SERIAL_SESSION | CKF_RW_SESSION), nil, nil, &session))
        // A login is the application's, for all its sessions; a second one answers "already".
        var copy = pin
        let rv = copy.withUnsafeMutableBufferPointer { login(session, CK_USER_TYPE(CKU_USER), $0.baseAddress, CK_ULONG($0.count)) }
        copy.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        if rv != CK_RV(CKR_USER_ALREADY_LOGGED_IN) {
            do {
                try check("C_Login", rv)
            } catch {
                _ = module.functions.pointee.C_CloseSession?(session)
                throw error
            }
        }
        return session
    }

    /// Forgets every session of `epoch` (closing what can be closed), so that the next call finds
    /// the token again, opens new sessions and logs in.
    private func drop(_ session: CK_SESSION_HANDLE, epoch: Int) {
        let sessions = pool.withLock { pool -> [CK_SESSION_HANDLE] in
            guard pool.epoch == epoch else { return [session] }
            let all = pool.idle + [session]
            pool.idle = []
            pool.slot = nil
            pool.epoch += 1
            return all
        }
        for session in sessions { _ = module.functions.pointee.C_CloseSession?(session) }
    }
}
