internal import CZeroMQ
import Foundation
public import Logging
import Synchronization

/// Answers libzmq's ZAP requests (RFC 27) so that a CURVE server admits only allow-listed clients.
///
/// Without a ZAP handler libzmq admits any client that knows the server's public key, so the
/// handler must be running, in the same context, before the server socket binds.
public final class ZAPAuthenticator: Sendable {
    /// The well-known endpoint libzmq sends ZAP requests to.
    public static let endpoint = "inproc://zeromq.zap.01"

    private let context: ZMQContext
    private let allowed: Mutex<Set<String>>
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let stopped = Mutex<Bool>(false)
    private let counts = Mutex<(admitted: Int, denied: Int)>((0, 0))
    private let refusals: Mutex<RefusalLog>

    /// Creates an authenticator that admits CURVE clients whose Z85 public key is in `allowedKeys`.
    ///
    /// - Parameter refusalInterval: Refusals from one peer address are logged once, then summarised
    ///   once per interval.
    public init(context: ZMQContext, allowedKeys: some Sequence<String>, refusalInterval: Duration = .seconds(60), logger: Logger) {
        self.context = context
        self.allowed = Mutex(Set(allowedKeys))
        self.logger = logger
        self.refusals = Mutex(RefusalLog(interval: refusalInterval))
    }

    /// Replaces the allow list: handshakes from now on are judged by `keys` (connections already
    /// admitted stay). A rotation adds the new key, moves its holder over, then removes the old one.
    public func replaceAllowedKeys(_ keys: some Sequence<String>) {
        allowed.withLock { $0 = Set(keys) }
    }

    /// How many handshakes were admitted and denied so far.
    public var decisions: (admitted: Int, denied: Int) { counts.withLock { $0 } }

    /// Binds the ZAP endpoint and starts answering on a dedicated thread.
    ///
    /// Returns once the endpoint is bound, so a server socket bound afterwards is protected.
    public func start() throws {
        let ready = DispatchSemaphore(value: 0)
        let failure = Mutex<ZMQError?>(nil)
        let thread = Thread { [self] in
            do {
                let socket = try ZMQSocket(context, .rep)
                try socket.bind(Self.endpoint)
                ready.signal()
                serve(socket)
            } catch {
                failure.withLock { $0 = error as? ZMQError ?? ZMQError(.library, "\(error)") }
                ready.signal()
            }
            stopped.withLock { $0 = true }
        }
        thread.name = "coffer-zap"
        thread.start()
        ready.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// Stops answering; later handshakes fail closed.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        while !stopped.withLock({ $0 }) { usleep(10_000) }
    }

    private func serve(_ socket: ZMQSocket) {
        while !stopping.load(ordering: .relaxed) {
            refusals.withLock { $0.flush(now: .now, logger: logger) }
            guard let ready = try? socket.poll(timeoutMilliseconds: 100), ready.socket,
                  let frames = try? socket.receive()
            else { continue }
            let reply = answer(frames)
            _ = try? socket.send(reply, wait: true)
        }
    }

    /// Decides one ZAP request: version, request id, domain, address, identity, mechanism, credentials.
    func answer(_ frames: [[UInt8]]) -> [[UInt8]] {
        let requestID = frames.count > 1 ? frames[1] : []
        func reply(_ status: String, _ text: String, user: String = "") -> [[UInt8]] {
            [Array("1.0".utf8), requestID, Array(status.utf8), Array(text.utf8), Array(user.utf8), []]
        }
        guard frames.count >= 6, frames[0] == Array("1.0".utf8) else {
            return reply("500", "malformed ZAP request")
        }
        let address = String(decoding: frames[3], as: UTF8.self)
        let mechanism = String(decoding: frames[5], as: UTF8.self)
        guard mechanism == "CURVE", frames.count >= 7, let key = CurveKeyPair.z85(frames[6]) else {
            deny(peer: address, reason: "no CURVE", metadata: ["coffer.mechanism": "\(mechanism)"])
            return reply("400", "CURVE required")
        }
        guard allowed.withLock({ $0.contains(key) }) else {
            deny(peer: address, reason: "key not on the allow list", metadata: ["coffer.curve_key": "\(key)"])
            return reply("400", "key not allowed")
        }
        counts.withLock { $0.admitted += 1 }
        return reply("200", "OK", user: key)
    }

    private func deny(peer: String, reason: String, metadata: Logger.Metadata) {
        counts.withLock { $0.denied += 1 }
        refusals.withLock { $0.refused(peer: peer, reason: reason, metadata: metadata, now: .now, logger: logger) }
    }
}
