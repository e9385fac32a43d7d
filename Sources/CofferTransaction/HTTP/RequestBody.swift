import CofferAPI
import Foundation
import Hummingbird

/// Reads and decodes a request's JSON body: at most ``APIRoutes/maxBody`` bytes (413 `too_large`
/// beyond), and a body that is not this endpoint's JSON is 400 `bad_request` naming the field.
enum RequestBody {
    /// Collects the body of `request`, up to the limit.
    static func collect(_ request: Request) async throws -> [UInt8] {
        var request = request
        let buffer = try await request.collectBody(upTo: APIRoutes.maxBody)
        return Array(buffer.readableBytesView)
    }

    /// Decodes `bytes` as `type`, or throws 400 saying what is wrong, without echoing the value.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let error as DecodingError {
            throw APIError.badRequest("the request body is not valid JSON for this endpoint: \(Self.describe(error))")
        } catch {
            throw APIError.badRequest("the request body is not valid JSON for this endpoint")
        }
    }

    /// Collects and decodes the body of `request`.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        try decode(type, from: try await collect(request))
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the body" : keys.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, _): return "\(key.stringValue) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "\(path(context)) has the wrong type"
        case .dataCorrupted(let context): return context.codingPath.isEmpty ? "it is not JSON" : "\(path(context)) is not valid"
        @unknown default: return "it does not match"
        }
    }
}
