import CofferWire
import Foundation
import Testing

@Suite struct WireProtocolTests {
    @Test("a request survives encoding with its version, id and body")
    func requestRoundTrip() throws {
        var save = Coffer_Wire_V1_CreateRecord()
        save.recordID = Data(repeating: 3, count: 16)
        save.owner = "alice"
        save.wrappedDecodeKey = Data([1, 2, 3])
        let request = WireProtocol.request(.createRecord(save))
        #expect(request.protocolVersion == WireProtocol.version)
        #expect(request.requestID.count == WireProtocol.requestIDSize)
        let decoded = try WireProtocol.decode(WireRequest.self, from: try WireProtocol.encode(request))
        #expect(decoded == request)
        guard case .createRecord(let body) = decoded.body else {
            Issue.record("wrong body")
            return
        }
        #expect(body.owner == "alice")
    }

    @Test("two requests get different ids")
    func freshIDs() {
        #expect(WireProtocol.request(.ping(.init())).requestID != WireProtocol.request(.ping(.init())).requestID)
    }

    @Test("an error answer echoes the request id")
    func errorEchoesID() {
        let request = WireProtocol.request(.ping(.init()))
        let response = WireProtocol.error(to: request, .notFound, "no such record")
        #expect(response.requestID == request.requestID)
        guard case .error(let error) = response.body else {
            Issue.record("not an error")
            return
        }
        #expect(error.code == .notFound)
    }

    @Test("oversized input is refused before decoding")
    func oversizedRefused() {
        #expect(throws: WireDecodingError.self) {
            try WireProtocol.decode(WireRequest.self, from: [UInt8](repeating: 0, count: WireProtocol.maxMessageSize + 1))
        }
    }

    @Test("garbage bytes do not decode to a request with a body")
    func garbage() {
        let decoded = try? WireProtocol.decode(WireRequest.self, from: [0xFF, 0xFF, 0xFF, 0x01, 0x02])
        #expect(decoded?.body == nil)
    }
}
