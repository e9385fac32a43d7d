import CofferStorage
import CofferWire
import Logging
import SwiftProtobuf

/// One request kind of the tier protocol, answered from the store.
///
/// Each kind says what it reads and writes, and, through the classification both tiers share
/// (``WireOperation``), whether it changes state (then it runs once per request id, its reply
/// stored with its effect) and whether it audits. ``OperationDispatch`` maps every request body to
/// its operation in one exhaustive switch: a new request kind does not compile until it has one.
protocol DatabaseOperation {
    associatedtype Message: SwiftProtobuf.Message
    /// The tables it reads and writes, for people (docs/PROTOCOL.md).
    static var touches: String { get }
    /// The record whose wrapped key the reply may carry: the stored reply is forgotten when that
    /// key is destroyed.
    static func carriedRecord(_ message: Message) -> [UInt8]?
    /// The answer to `message`, from the store.
    static func answer(_ message: Message, to request: WireRequest, in context: OperationContext) throws -> WireResponse
    /// The encoded answer to `message` made in one round trip to the store, the request's claim,
    /// replay guard and stored reply included; `nil` when this operation or this case has no such
    /// path, and nothing was written. Only operations that change state have one.
    static func answerInOneCall(_ message: Message, to request: WireRequest, _ call: OneCallContext) throws -> [UInt8]?
}

extension DatabaseOperation {
    static func carriedRecord(_ message: Message) -> [UInt8]? { nil }
    static func answerInOneCall(_ message: Message, to request: WireRequest, _ call: OneCallContext) throws -> [UInt8]? { nil }

    /// The operation, bound to its message.
    static func bind(_ message: Message, _ body: WireRequest.OneOf_Body) -> BoundOperation {
        BoundOperation(
            kind: WireOperation.of(body), carriedRecord: carriedRecord(message),
            answer: { request, context in try answer(message, to: request, in: context) },
            answerInOneCall: { request, call in try answerInOneCall(message, to: request, call) }
        )
    }
}

/// What an operation's answer has at hand.
struct OperationContext {
    let store: RecordStore
    let logger: Logger
    /// The database tier's clock when the batch began (Unix ms), for requests that carry no time
    /// of their own but are checked against one (a grant's end).
    let nowMs: Int64
    /// The most entries one answer carries (history, records, users).
    static let maxItems = 1_000
}

/// What an answer in one round trip needs besides the store: the request's checked replay guard
/// and the dispatcher's clock and nonce retention.
struct OneCallContext {
    let store: RecordStore
    let nonce: RecordStore.OneCallSave.Nonce?
    let nowMs: Int64
    let nonceRetentionMs: Int64
}

/// An operation with its message: ready to answer, and saying what it is.
struct BoundOperation {
    let kind: WireOperation
    let carriedRecord: [UInt8]?
    let answer: (WireRequest, OperationContext) throws -> WireResponse
    let answerInOneCall: (WireRequest, OneCallContext) throws -> [UInt8]?
}
