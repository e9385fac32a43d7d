public import CofferWire
public import CofferZMQ
import Foundation
public import Logging

/// The transaction tier's typed client of the database tier, over ZeroMQ with CURVE.
public final class DatabaseLink: Sendable {
    private let client: RequestClient
    private let timeout: Duration
    private let context: ZMQContext

    /// Connects to every endpoint in `endpoints`.
    ///
    /// - Parameters:
    ///   - timeout: How long one request may wait for its answer.
    public init(endpoints: [String], keys: CurveKeyPair, serverKey: String, timeout: Duration, logger: Logger) throws {
        self.context = try ZMQContext()
        var configuration = RequestClient.Configuration(endpoints: endpoints, keys: keys, serverKey: serverKey)
        configuration.maxMessageSize = WireProtocol.maxMessageSize
        self.client = try RequestClient(configuration: configuration, context: context, logger: logger)
        self.timeout = timeout
        try client.start()
    }

    /// Sends one request and returns the answer's body; an error answer throws ``DatabaseLinkError``.
    public func call(_ body: WireRequest.OneOf_Body, replayGuard: Coffer_Wire_V1_ReplayGuard? = nil) async throws -> WireResponse.OneOf_Body {
        var request = WireProtocol.request(body)
        if let replayGuard { request.replayGuard = replayGuard }
        let reply: [UInt8]
        do {
            reply = try await client.request(try WireProtocol.encode(request), timeout: timeout)
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
            throw DatabaseLinkError.refused(error.code, error.message)
        }
        return answer
    }

    /// Fails waiting requests and closes the link.
    public func shutdown() {
        client.shutdown()
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
