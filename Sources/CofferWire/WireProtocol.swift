import Foundation
public import SwiftProtobuf

/// The tier protocol's request.
public typealias WireRequest = Coffer_Wire_V1_Request
/// The tier protocol's response.
public typealias WireResponse = Coffer_Wire_V1_Response
/// An error answer from the database tier.
public typealias WireError = Coffer_Wire_V1_Error

/// Framing rules shared by both ends of the tier link.
public enum WireProtocol {
    /// The protocol version this build speaks.
    public static let version: UInt32 = 1
    /// The largest message either end accepts, in bytes.
    public static let maxMessageSize = 1 << 20
    /// Bytes of a request id.
    public static let requestIDSize = 16

    /// Builds a request with a fresh request id.
    public static func request(_ body: WireRequest.OneOf_Body) -> WireRequest {
        var request = WireRequest()
        request.protocolVersion = version
        request.requestID = Data((0..<requestIDSize).map { _ in UInt8.random(in: 0...255) })
        request.body = body
        return request
    }

    /// Builds the answer to `request`.
    public static func response(to request: WireRequest, _ body: WireResponse.OneOf_Body) -> WireResponse {
        var response = WireResponse()
        response.protocolVersion = version
        response.requestID = request.requestID
        response.body = body
        return response
    }

    /// Builds an error answer to `request`.
    public static func error(to request: WireRequest, _ code: WireError.Code, _ message: String) -> WireResponse {
        var error = WireError()
        error.code = code
        error.message = message
        return response(to: request, .error(error))
    }

    /// Decodes a message received from the other tier, refusing oversized input.
    public static func decode<M: SwiftProtobuf.Message>(_ type: M.Type, from bytes: [UInt8]) throws -> M {
        guard bytes.count <= maxMessageSize else { throw WireDecodingError.tooLarge }
        return try M(serializedBytes: bytes)
    }
}

/// A message from the other tier could not be used.
public enum WireDecodingError: Error, Sendable {
    /// The message exceeds ``WireProtocol/maxMessageSize``.
    case tooLarge
}

extension WireProtocol {
    /// Encodes a message for the tier link.
    public static func encode(_ message: some SwiftProtobuf.Message) throws -> [UInt8] {
        try message.serializedBytes()
    }
}
