internal import CZeroMQ
import Foundation
public import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Sends requests over a CURVE-protected DEALER socket and matches the replies, from async code.
///
/// The socket lives on a dedicated thread (libzmq calls block, and sockets are not thread-safe);
/// callers hand requests over through a queue and a wake-up pipe. Each request has a timeout, and a
/// request made while no server is connected fails at once with `.unavailable` instead of queueing.
public final class RequestClient: Sendable {
    /// Settings of a request client.
    public struct Configuration: Sendable {
        /// The server endpoints; requests are spread over those connected.
        public var endpoints: [String]
        /// This client's CURVE key pair (its public key must be on the server's allow list).
        public var keys: CurveKeyPair
        /// The server's CURVE public key.
        public var serverKey: String
        /// Server keys of particular endpoints, where they differ from ``serverKey`` (a rotation).
        public var serverKeysByEndpoint: [String: String] = [:]
        /// The most requests waiting for an answer at once; more fail with `.unavailable`.
        public var maxPending: Int = 4_096
        /// The largest reply accepted, in bytes.
        public var maxMessageSize: Int = 1 << 20
        /// How long a silent server stays connected before it is dropped; heartbeats go out every
        /// third of it. A frozen or cut-off server stops taking requests once this has passed.
        public var heartbeatTimeout: Duration = .seconds(6)

        public init(endpoints: [String], keys: CurveKeyPair, serverKey: String) {
            self.endpoints = endpoints
            self.keys = keys
            self.serverKey = serverKey
        }
    }

    private struct Pending {
        let continuation: CheckedContinuation<[UInt8], any Error>
        let deadline: ContinuousClock.Instant
    }

    private struct State {
        var nextID: UInt64 = 1
        var outbox: [(id: UInt64, payload: [UInt8])] = []
        var pending: [UInt64: Pending] = [:]
        var closed = false
    }

    private let configuration: Configuration
    private let context: ZMQContext
    private let logger: Logger
    private let state = Mutex(State())
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let finished = DispatchSemaphore(value: 0)

    /// Creates a client; call ``start()`` before the first request.
    public init(configuration: Configuration, context: ZMQContext, logger: Logger) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ZMQError(.library, "creating a wake-up pipe failed", errno: errno) }
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        self.wakeRead = fds[0]
        self.wakeWrite = fds[1]
        self.configuration = configuration
        self.context = context
        self.logger = logger
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    /// Connects and starts the I/O thread. Returns once the socket is set up.
    public func start() throws {
        let ready = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        let thread = Thread { [self] in
            do {
                let socket = try ZMQSocket(context, .dealer)
                try socket.makeCurveClient(keys: configuration.keys, serverKey: configuration.serverKey)
                try socket.set(ZMQ_IMMEDIATE, 1)
                try socket.set(ZMQ_MAXMSGSIZE, int64: Int64(configuration.maxMessageSize))
                try socket.set(ZMQ_RECONNECT_IVL, 100)
                try socket.set(ZMQ_RECONNECT_IVL_MAX, 2_000)
                try socket.set(ZMQ_HANDSHAKE_IVL, 5_000)
                let timeout = configuration.heartbeatTimeout.components
                let heartbeatTimeout = Int32(clamping: timeout.seconds * 1_000 + timeout.attoseconds / 1_000_000_000_000_000)
                try socket.set(ZMQ_HEARTBEAT_IVL, max(1, heartbeatTimeout / 3))
                try socket.set(ZMQ_HEARTBEAT_TIMEOUT, heartbeatTimeout)
                try socket.set(ZMQ_SNDHWM, Int32(configuration.maxPending))
                try socket.set(ZMQ_RCVHWM, Int32(configuration.maxPending))
                for endpoint in configuration.endpoints {
                    // Taken at connect: each endpoint may have a server key of its own.
                    try socket.set(ZMQ_CURVE_SERVERKEY, bytes: Array((configuration.serverKeysByEndpoint[endpoint] ?? configuration.serverKey).utf8))
                    try socket.connect(endpoint)
                }
                ready.signal()
                run(socket)
            } catch {
                failure.withLock { $0 = error }
                ready.signal()
            }
            finished.signal()
        }
        thread.name = "coffer-dealer"
        thread.start()
        ready.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// Sends `payload` and waits for the reply, at most `timeout`.
    ///
    /// - Throws: ``ZMQError`` `.timeout`, `.unavailable` (no server connected), `.busy` (too many
    ///   requests pending) or `.closed`.
    public func request(_ payload: [UInt8], timeout: Duration) async throws -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        let reply = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8], any Error>) in
            let refusal: ZMQError? = state.withLock { state in
                if state.closed { return ZMQError(.closed, "the tier link is shut down") }
                if state.pending.count >= configuration.maxPending {
                    return ZMQError(.busy, "too many requests are waiting for the database tier")
                }
                let id = state.nextID
                state.nextID += 1
                state.outbox.append((id, payload))
                state.pending[id] = Pending(continuation: continuation, deadline: deadline)
                return nil
            }
            if let refusal {
                continuation.resume(throwing: refusal)
            } else {
                var byte: UInt8 = 1
                _ = write(wakeWrite, &byte, 1)
            }
        }
        return reply
    }

    /// Fails every waiting request with `.closed` and stops the I/O thread.
    public func shutdown() {
        let alreadyClosed = state.withLock { state in
            defer { state.closed = true }
            return state.closed
        }
        guard !alreadyClosed else { return }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
        finished.wait()
    }

    private func run(_ socket: ZMQSocket) {
        var drain = [UInt8](repeating: 0, count: 64)
        while true {
            let wait = state.withLock { state -> Int in
                guard let next = state.pending.values.map(\.deadline).min() else { return 250 }
                let ms = (next - ContinuousClock.now).components
                let millis = Int(ms.seconds) * 1000 + Int(ms.attoseconds / 1_000_000_000_000_000)
                return max(0, min(250, millis + 1))
            }
            let ready: (socket: Bool, fd: Bool)
            do {
                ready = try socket.poll(alsoFD: wakeRead, timeoutMilliseconds: wait)
            } catch {
                logger.error("tier-link poll failed", metadata: ["coffer.error": "\(error)"])
                ready = (false, false)
            }
            if ready.fd { while read(wakeRead, &drain, drain.count) > 0 {} }

            var resolved: [(Pending, Result<[UInt8], any Error>)] = []
            let (outbox, closed) = state.withLock { state in
                defer { state.outbox = [] }
                return (state.outbox, state.closed)
            }
            if closed {
                let all = state.withLock { state in
                    defer { state.pending = [:] }
                    return Array(state.pending.values)
                }
                for p in all { p.continuation.resume(throwing: ZMQError(.closed, "the tier link is shut down")) }
                return
            }
            for item in outbox {
                var id = item.id.bigEndian
                let idBytes = withUnsafeBytes(of: &id) { Array($0) }
                let sent = (try? socket.send([idBytes, item.payload])) ?? false
                if !sent, let p = state.withLock({ $0.pending.removeValue(forKey: item.id) }) {
                    resolved.append((p, .failure(ZMQError(.unavailable, "no database tier is connected"))))
                }
            }
            if ready.socket {
                while let frames = try? socket.receive() {
                    guard frames.count == 2, frames[0].count == 8 else {
                        logger.warning("dropped a malformed tier-link reply")
                        continue
                    }
                    let id = frames[0].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                    if let p = state.withLock({ $0.pending.removeValue(forKey: id) }) {
                        resolved.append((p, .success(frames[1])))
                    }
                }
            }
            let now = ContinuousClock.now
            let expired = state.withLock { state in
                let ids = state.pending.filter { $0.value.deadline <= now }.map(\.key)
                return ids.compactMap { state.pending.removeValue(forKey: $0) }
            }
            for p in expired {
                resolved.append((p, .failure(ZMQError(.timeout, "the database tier did not answer in time"))))
            }
            for (p, result) in resolved { p.continuation.resume(with: result) }
        }
    }
}
