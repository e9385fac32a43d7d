import CofferContainer
import Crypto
import Testing

@Suite struct ContainerHeaderTests {
    @Test("a header serializes and parses back unchanged")
    func parseRoundTrip() throws {
        let key = P256.KeyAgreement.PrivateKey()
        let (header, _) = try ContainerHeader.seal(recordID: Array(repeating: 7, count: 16), encodeKey: key.publicKey, receipt: Array("r".utf8))
        let (parsed, length) = try ContainerHeader.parse(header.serialized + [1, 2, 3])
        #expect(parsed == header)
        #expect(length == header.serialized.count)
    }

    @Test("input without the magic is not a container")
    func notAContainer() {
        let error = #expect(throws: ContainerError.self) { try ContainerHeader.parse(Array("%PDF-1.7 something else entirely".utf8)) }
        #expect(error?.code == .notAContainer)
    }

    @Test("a future format version is named as unsupported")
    func unsupportedVersion() throws {
        var bytes = ContainerFormat.magic
        bytes[7] = 2
        let error = #expect(throws: ContainerError.self) { try ContainerHeader.parse(bytes + Array(repeating: 0, count: 400)) }
        #expect(error?.code == .unsupportedVersion)
    }

    @Test("an oversized receipt length is refused before anything is allocated")
    func oversizedReceipt() throws {
        let key = P256.KeyAgreement.PrivateKey()
        let (header, _) = try ContainerHeader.seal(recordID: Array(repeating: 1, count: 16), encodeKey: key.publicKey, receipt: [])
        var bytes = header.serialized
        let lengthOffset = ContainerFormat.fixedHeaderSize - 4
        bytes.replaceSubrange(lengthOffset..<(lengthOffset + 4), with: [0x7F, 0xFF, 0xFF, 0xFF])
        let error = #expect(throws: ContainerError.self) { try ContainerHeader.parse(bytes) }
        #expect(error?.code == .malformedHeader)
    }

    @Test("sealing refuses a record id of the wrong size")
    func badRecordID() {
        #expect(throws: ContainerError.self) {
            try ContainerHeader.seal(recordID: [1, 2, 3], encodeKey: P256.KeyAgreement.PrivateKey().publicKey, receipt: [])
        }
    }
}
