public import CofferWire
import CofferZMQ
import Foundation
public import Logging

/// The transaction tier's typed client of the database tier, over ZeroMQ with CURVE.
///
/// Reliability follows the Lazy Pirate pattern across several database processes: each attempt has
/// its own timeout, and a request that timed out or found no process connected is sent again — the
/// same bytes, so the same request id — until the overall timeout. The DEALER socket spreads attempts
/// over the connected processes, so a retry usually reaches another one. The database tier runs a
/// changing request once per request id and answers a retry from the reply it stored with the
/// effect, so a retried save never makes a second record or a second audit entry.
public final class DatabaseLink: DatabaseCalling, Sendable {
    /// How the link connects, retries and bounds its queue.
    public struct Configuration: Sendable {
        /// The database processes; requests are spread over those connected.
        public var endpoints: [String]
        /// How long one request may take, retries included.
        public var timeout: Duration = .seconds(5)
        /// How long one attempt waits before the request is sent again (at most `timeout`).
        public var attemptTimeout: Duration = .milliseconds(1_500)
        /// The most requests waiting at once; more fail at once (back pressure).
        public var queueLimit: Int = 4_096
        /// How long a silent database process stays connected before the link drops it.
        public var heartbeatTimeout: Duration = .seconds(6)

        public init(endpoints: [String]) {
            self.endpoints = endpoints
        }
    }

    private let client: RequestClient
    private let timeout: Duration
    private let attemptTimeout: Duration
    private let logger: Logger
    private let context: ZMQContext
    /// When the link was made: its first CURVE handshakes take a moment, so "no database process
    /// is connected" is expected, not worth a warning, in its first ``handshakeGrace``.
    private let started = ContinuousClock.now
    static let handshakeGrace = Duration.seconds(2)

    /// Connects to every endpoint of `configuration` with `keys`.
    public init(configuration: Configuration, keys: TierLinkKeys, logger: Logger) throws {
        self.context = try ZMQContext()
        var client = RequestClient.Configuration(endpoints: configuration.endpoints, keys: keys.keys, serverKey: keys.serverKey)
        client.serverKeysByEndpoint = keys.serverKeysByEndpoint
        client.maxMessageSize = WireProtocol.maxMessageSize
        client.maxPending = max(1, configuration.queueLimit)
        client.heartbeatTimeout = configuration.heartbeatTimeout
        self.client = try RequestClient(configuration: client, context: context, logger: logger)
        self.timeout = configuration.timeout
        self.attemptTimeout = min(configuration.attemptTimeout, configuration.timeout)
        self.logger = logger
        try self.client.start()
    }

    /// Sends one request and returns the answer's body; an error answer throws ``DatabaseLinkError``.
    ///
    /// A lost or late answer, no connected process, and an `UNAVAILABLE` answer (the process lost its
    /// database) are retried with the same request id until the overall timeout.
    public func call(_ body: WireRequest.OneOf_Body, replayGuard: Coffer_Wire_V1_ReplayGuard?) async throws -> WireResponse.OneOf_Body {
        let started = ContinuousClock.now
        TierLinkMetrics.began()
        var outcome = "unavailable"
        defer { TierLinkMetrics.ended(outcome, after: ContinuousClock.now - started) }
        let answer = try await attempt(body, replayGuard: replayGuard)
        outcome = "ok"
        return answer
    }

    private func attempt(_ body: WireRequest.OneOf_Body, replayGuard: Coffer_Wire_V1_ReplayGuard?) async throws -> WireResponse.OneOf_Body {
        var request = WireProtocol.request(body)
        if let replayGuard { request.replayGuard = replayGuard }
        let payload = try WireProtocol.encode(request)
        let deadline = ContinuousClock.now + timeout
        var retry = Retry(deadline: deadline)
        while true {
            let reply: [UInt8]
            do {
                reply = try await client.request(payload, timeout: min(attemptTimeout, deadline - ContinuousClock.now))
            } catch let error as ZMQError where error.code == .timeout || error.code == .unavailable || error.code == .library {
                let connecting = error.code == .unavailable && ContinuousClock.now - started < Self.handshakeGrace
                TierLinkMetrics.retried(error.code == .timeout ? "timeout" : "no_process")
                try await retry.wait(after: error.message, logger: logger, level: connecting ? .debug : .warning)
                continue
            } catch let error as ZMQError {
                throw DatabaseLinkError.unavailable(error.message)
            }
            let response: WireResponse
            do {
                response = try WireProtocol.decode(WireResponse.self, from: reply)
            } catch {
                throw DatabaseLinkError.protocolViolation("the database tier sent an undecodable answer")
            }
            guard response.requestID == request.requestID, let answer = response.body else {
                throw DatabaseLinkError.protocolViolation("the database tier answered a different request")
            }
            if case .error(let error) = answer {
                if error.code == .unavailable {
                    TierLinkMetrics.retried("unavailable_answer")
                    try await retry.wait(after: error.message, logger: logger)
                    continue
                }
                TierLinkMetrics.refused()
                throw DatabaseLinkError.refused(error.code, error.message)
            }
            return answer
        }
    }

    /// Backs off between attempts, doubling from 25 ms to 500 ms, until the deadline.
    private struct Retry {
        let deadline: ContinuousClock.Instant
        var backoff = Duration.milliseconds(25)
        var attempt = 1

        mutating func wait(after why: String, logger: Logger, level: Logger.Level = .warning) async throws {
            guard ContinuousClock.now + backoff < deadline else { throw DatabaseLinkError.unavailable(why) }
            logger.log(level: level, "retrying a database-tier request", metadata: ["coffer.attempt": "\(attempt)", "coffer.error": "\(why)"])
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .milliseconds(500))
            attempt += 1
        }
    }

    /// Fails waiting requests and closes the link.
    public func shutdown() {
        client.shutdown()
    }
}

/// Anything that answers tier-protocol requests: the link to the database tier, or an in-memory
/// double of it in a test of the transaction tier.
public protocol DatabaseCalling: Sendable {
    /// Sends one request and returns the answer's body; an error answer throws ``DatabaseLinkError``.
    func call(_ body: WireRequest.OneOf_Body, replayGuard: Coffer_Wire_V1_ReplayGuard?) async throws -> WireResponse.OneOf_Body
}

extension DatabaseCalling {
    /// Sends one request without a replay guard.
    public func call(_ body: WireRequest.OneOf_Body) async throws -> WireResponse.OneOf_Body {
        try await call(body, replayGuard: nil)
    }
}

/// Why a database-tier request did not succeed.
public enum DatabaseLinkError: Error, Sendable {
    /// No database process answered in time, or none is connected.
    case unavailable(String)
    /// The answer broke the protocol.
    case protocolViolation(String)
    /// The database tier answered with an error.
    case refused(WireError.Code, String)
}
