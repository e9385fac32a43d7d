import CofferDatabase
import CofferStorage
import CofferTesting
import CofferWire
import Foundation
import Logging
import Testing

/// After a logout (EndSessions) the database tier answers SESSION_ENDED to every request made under a
/// session issued before it, whatever the request, and serves later sessions; malformed logouts and
/// password changes are refused.
@Suite struct SessionEndTests {
    /// A database-tier handler over a fresh SQLite store.
    func makeHandler() throws -> RequestDispatcher {
        let path = try TestEnvironment.makeTemporaryDirectory("sessions") + "/store.sqlite"
        return try RequestDispatcher(logger: Logger(label: "test")) { try RecordStore(connection: SQLiteConnection(path: path)) }
    }

    func answer(_ handler: RequestDispatcher, _ request: WireRequest) throws -> WireResponse {
        try WireProtocol.decode(WireResponse.self, from: try #require(handler.handle(try WireProtocol.encode(request))))
    }

    func code(_ response: WireResponse) -> WireError.Code? {
        if case .error(let error) = response.body { return error.code }
        return nil
    }

    func signed(_ body: WireRequest.OneOf_Body, issued: Int64) -> WireRequest {
        var request = WireProtocol.request(body)
        var replayGuard = Coffer_Wire_V1_ReplayGuard()
        replayGuard.clientID = "laptop"
        replayGuard.nonce = Data((0..<16).map { _ in UInt8.random(in: 0...255) })
        replayGuard.timeUnixMs = Int64(Date().timeIntervalSince1970 * 1000)
        replayGuard.user = "alice"
        replayGuard.sessionIssuedUnixMs = issued
        request.replayGuard = replayGuard
        return request
    }

    @Test("requests under a session issued before a logout are refused SESSION_ENDED; a malformed or unknown logout is refused")
    func endedSessions() throws {
        let handler = try makeHandler()
        var register = Coffer_Wire_V1_RegisterUser()
        register.user = "alice"
        register.passwordHash = "h"
        register.device.clientID = "laptop"
        register.device.publicKey = Data([1])
        #expect(code(try answer(handler, WireProtocol.request(.registerUser(register)))) == nil)

        var list = Coffer_Wire_V1_ListRecords()
        list.owner = "alice"
        #expect(code(try answer(handler, signed(.listRecords(list), issued: 1_000))) == nil)

        var end = Coffer_Wire_V1_EndSessions()
        #expect(code(try answer(handler, signed(.endSessions(end), issued: 1_000))) == .badRequest)
        end.user = "alice"
        end.clientID = "phone"
        end.timeUnixMs = 2_000
        #expect(code(try answer(handler, WireProtocol.request(.endSessions(end)))) == .notFound)
        end.clientID = "laptop"
        #expect(code(try answer(handler, signed(.endSessions(end), issued: 1_000))) == nil)

        var history = Coffer_Wire_V1_ListHistory()
        history.owner = "alice"
        var release = Coffer_Wire_V1_ReleaseKey()
        release.recordID = Data(repeating: 1, count: 16)
        release.owner = "alice"
        for body: WireRequest.OneOf_Body in [.listRecords(list), .listHistory(history), .releaseKey(release), .endSessions(end)] {
            let refused = try answer(handler, signed(body, issued: 1_000))
            #expect(code(refused) == .sessionEnded, "\(body)")
            if case .error(let error) = refused.body { #expect(error.message == RecordStore.sessionEndedReason) }
        }
        #expect(code(try answer(handler, signed(.listRecords(list), issued: 2_001))) == nil, "a session issued after the logout")
    }

    @Test("a malformed password change is refused BAD_REQUEST, one for an unknown user NOT_FOUND")
    func passwordChangeRefusals() throws {
        let handler = try makeHandler()
        var change = Coffer_Wire_V1_SetPassword()
        change.user = "nobody"
        change.clientID = "laptop"
        change.timeUnixMs = 1
        #expect(code(try answer(handler, WireProtocol.request(.setPassword(change)))) == .badRequest, "no hash")
        change.passwordHash = String(repeating: "h", count: 2_000)
        #expect(code(try answer(handler, WireProtocol.request(.setPassword(change)))) == .badRequest, "an oversized hash")
        change.passwordHash = "h"
        #expect(code(try answer(handler, WireProtocol.request(.setPassword(change)))) == .notFound)
    }
}
