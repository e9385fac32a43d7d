import CofferTierLink
import CofferWire
import Foundation
import Synchronization

/// An in-memory double of the database tier, inside the transaction tier's tests: each request kind
/// (by its ``WireOperation`` name) is answered by a script, and nonces are remembered as the real
/// tier remembers them, so that a replay is refused.
final class ScriptedDatabase: DatabaseCalling, Sendable {
    typealias Answer = @Sendable (WireRequest.OneOf_Body) throws -> WireResponse.OneOf_Body

    private let answers = Mutex<[String: Answer]>([:])
    private let nonces = Mutex<Set<Data>>([])
    private let seen = Mutex<[String]>([])

    init() {
        answer("Ping") { _ in
            var pong = Coffer_Wire_V1_Pong()
            pong.store = "double"
            return .pong(pong)
        }
    }

    /// Answers `operation` (for example `"CreateRecord"`) with `answer` from now on.
    func answer(_ operation: String, _ answer: @escaping Answer) {
        answers.withLock { $0[operation] = answer }
    }

    /// Refuses `operation` with an error answer of `code`.
    func refuse(_ operation: String, _ code: WireError.Code, _ message: String = "refused by the test") {
        answer(operation) { _ in throw DatabaseLinkError.refused(code, message) }
    }

    /// The operations called so far, in order.
    var calls: [String] { seen.withLock { $0 } }

    func call(_ body: WireRequest.OneOf_Body, replayGuard: Coffer_Wire_V1_ReplayGuard?) async throws -> WireResponse.OneOf_Body {
        let name = WireOperation.of(body).name
        seen.withLock { $0.append(name) }
        if let replayGuard, !nonces.withLock({ $0.insert(Data(replayGuard.clientID.utf8) + replayGuard.nonce).inserted }) {
            throw DatabaseLinkError.refused(.replayed, "this request was already received")
        }
        guard let answer = answers.withLock({ $0[name] }) else {
            throw DatabaseLinkError.refused(.internal, "the test scripted no answer to \(name)")
        }
        return try answer(body)
    }
}
