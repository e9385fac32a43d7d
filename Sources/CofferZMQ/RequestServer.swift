internal import CZeroMQ
import Foundation
public import Logging
import Synchronization

/// Serves request/response traffic on a CURVE-protected ROUTER socket, one batch at a time.
///
/// Frames in: `[peer, correlation, payload]`; frames out: `[peer, correlation, reply]`.
/// The handler runs on the server's own thread, so it may block (on a database, say). It is given
/// every request already waiting, up to ``Configuration/maxBatch``, so that it can answer them
/// together (one database commit for all).
public final class RequestServer: Sendable {
    /// Settings of a request server.
    public struct Configuration: Sendable {
        /// Where to bind, for example `tcp://127.0.0.1:5555`; `*` as the port picks a free one.
        public var endpoint: String
        /// The server's CURVE key pair.
        public var keys: CurveKeyPair
        /// The Z85 public keys of the clients admitted.
        public var allowedClientKeys: [String]
        /// The largest request accepted, in bytes; larger ones are dropped by libzmq.
        public var maxMessageSize: Int = 1 << 20
        /// The most waiting requests handed to the handler at once.
        public var maxBatch: Int = 1

        public init(endpoint: String, keys: CurveKeyPair, allowedClientKeys: [String]) {
            self.endpoint = endpoint
            self.keys = keys
            self.allowedClientKeys = allowedClientKeys
        }
    }

    /// Turns a request payload into a reply payload; `nil` sends no reply.
    public typealias Handler = @Sendable ([UInt8]) -> [UInt8]?
    /// Turns request payloads into their replies, one for each, in order; `nil` sends no reply.
    public typealias BatchHandler = @Sendable ([[UInt8]]) -> [[UInt8]?]

    private let configuration: Configuration
    private let context: ZMQContext
    private let logger: Logger
    private let authenticator: ZAPAuthenticator
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let bound = Mutex<String>("")

    /// Creates a server; nothing is bound until ``start(handler:)``.
    public init(configuration: Configuration, context: ZMQContext, logger: Logger) {
        self.configuration = configuration
        self.context = context
        self.logger = logger
        self.authenticator = ZAPAuthenticator(context: context, allowedKeys: configuration.allowedClientKeys, logger: logger)
    }

    /// The endpoint actually bound (with the chosen port).
    public var boundEndpoint: String { bound.withLock { $0 } }

    /// Replaces the CURVE keys admitted from the next handshake on.
    public func replaceAllowedClientKeys(_ keys: [String]) { authenticator.replaceAllowedKeys(keys) }

    /// ZAP decisions so far.
    public var authenticationDecisions: (admitted: Int, denied: Int) { authenticator.decisions }

    /// Starts the ZAP handler, binds, and serves one request at a time on a dedicated thread.
    /// Returns once bound.
    public func start(handler: @escaping Handler) throws {
        try start(batchHandler: { requests in requests.map(handler) })
    }

    /// Starts the ZAP handler, binds, and serves batches of waiting requests on a dedicated thread.
    /// Returns once bound.
    public func start(batchHandler handler: @escaping BatchHandler) throws {
        try authenticator.start()
        let ready = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        let thread = Thread { [self] in
            do {
                let socket = try ZMQSocket(context, .router)
                try socket.makeCurveServer(secretKey: configuration.keys.secretKey, domain: "coffer")
                try socket.set(ZMQ_ROUTER_MANDATORY, 1)
                try socket.set(ZMQ_MAXMSGSIZE, int64: Int64(configuration.maxMessageSize))
                try socket.set(ZMQ_HANDSHAKE_IVL, 5_000)
                // Drop a transaction process that vanished without closing, and the replies queued for it.
                try socket.set(ZMQ_HEARTBEAT_IVL, 2_000)
                try socket.set(ZMQ_HEARTBEAT_TIMEOUT, 6_000)
                try socket.set(ZMQ_SNDHWM, 10_000)
                try socket.set(ZMQ_RCVHWM, 10_000)
                try socket.bind(configuration.endpoint)
                bound.withLock { $0 = socket.lastEndpoint }
                ready.signal()
                serve(socket, handler: handler)
            } catch {
                failure.withLock { $0 = error }
                ready.signal()
            }
            finished.signal()
        }
        thread.name = "coffer-router"
        thread.start()
        ready.wait()
        if let error = failure.withLock({ $0 }) {
            authenticator.stop()
            throw error
        }
    }

    /// Stops after the request in progress; waits until the socket is closed.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        finished.wait()
        authenticator.stop()
    }

    private func serve(_ socket: ZMQSocket, handler: BatchHandler) {
        let maxBatch = max(1, configuration.maxBatch)
        while !stopping.load(ordering: .relaxed) {
            do {
                guard try socket.poll(timeoutMilliseconds: 100).socket else { continue }
                while true {
                    var envelopes: [(peer: [UInt8], correlation: [UInt8])] = []
                    var payloads: [[UInt8]] = []
                    while payloads.count < maxBatch, let frames = try socket.receive() {
                        guard frames.count == 3 else {
                            logger.warning("dropped a tier-link message with \(frames.count) frames")
                            continue
                        }
                        envelopes.append((frames[0], frames[1]))
                        payloads.append(frames[2])
                    }
                    if payloads.isEmpty { break }
                    let replies = handler(payloads)
                    for (envelope, reply) in zip(envelopes, replies) {
                        guard let reply else { continue }
                        if try !socket.send([envelope.peer, envelope.correlation, reply]) {
                            logger.warning("could not answer a tier-link peer that went away")
                        }
                    }
                }
            } catch {
                logger.error("tier-link receive failed", metadata: ["coffer.error": "\(error)"])
            }
        }
    }
}
