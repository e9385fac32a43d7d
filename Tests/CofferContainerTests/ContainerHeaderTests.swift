@testable import CofferContainer
import Crypto
import Testing

@Suite struct ContainerHeaderTests {
    @Test("a version 1 header serializes and parses back unchanged")
    func parseRoundTripVersionOne() throws {
        let key = P256.KeyAgreement.PrivateKey()
        let (header, _) = try ContainerHeader.sealVersion1(recordID: Array(repeating: 7, count: 16), encodeKey: key.publicKey, receipt: Array("r".utf8))
        let (parsed, payload) = try ContainerHeader.parse(header.serialized + [1, 2, 3])
        #expect(parsed == header)
        #expect(payload == header.serialized.count..<(header.serialized.count + 3))
    }

    @Test("a version 2 header and receipt parse back unchanged around their payload")
    func parseRoundTripVersionTwo() throws {
        let (container, _) = try makeContainer(randomBytes(5), receipt: Array("receipt".utf8))
        let (header, payload) = try ContainerHeader.parse(container)
        #expect(header.version == 2)
        #expect(header.plaintextSize == 5)
        #expect(header.receipt == Array("receipt".utf8))
        #expect(payload == ContainerFormat.headerSizeV2..<(ContainerFormat.headerSizeV2 + 21))
        #expect(header.leadingBytes + Array(container[payload]) + header.trailer == container)
    }

    @Test("input without the magic is not a container")
    func notAContainer() {
        let error = #expect(throws: ContainerError.self) { try ContainerHeader.parse(Array("%PDF-1.7 something else entirely".utf8)) }
        #expect(error?.code == .notAContainer)
    }

    @Test("a future format version is named as unsupported")
    func unsupportedVersion() throws {
        let bytes = ContainerFormat.magic(3)
        let error = #expect(throws: ContainerError.self) { try ContainerHeader.parse(bytes + Array(repeating: 0, count: 400)) }
        #expect(error?.code == .unsupportedVersion)
    }

    @Test("an oversized receipt length is refused before anything is allocated", arguments: [UInt8(1), 2])
    func oversizedReceipt(version: UInt8) throws {
        var (bytes, _) = try makeContainer([], version: version, receipt: [])
        let lengthOffset = version == 1 ? ContainerFormat.fixedHeaderSize - 4 : ContainerFormat.headerSizeV2 - ContainerFormat.macSize - 4
        bytes.replaceSubrange(lengthOffset..<(lengthOffset + 4), with: [0x7F, 0xFF, 0xFF, 0xFF])
        let error = #expect(throws: ContainerError.self) { try ContainerHeader.parse(bytes) }
        #expect(error?.code == .malformedHeader)
    }

    @Test("a version 2 plaintext size beyond 2^53 is refused")
    func oversizedPlaintext() throws {
        var (bytes, _) = try makeContainer([])
        bytes.replaceSubrange(46..<54, with: [0x00, 0x40, 0, 0, 0, 0, 0, 0])
        let error = #expect(throws: ContainerError.self) { try ContainerHeader.parse(bytes) }
        #expect(error?.code == .malformedHeader)
    }

    @Test("sealing refuses a plaintext size a reader would refuse")
    func sealingRefusesOversizedPlaintext() {
        let error = #expect(throws: ContainerError.self) {
            try ContainerHeader.seal(version: 2, fileKey: SymmetricKey(size: .bits256), salt: randomBytes(32), recordID: Array(repeating: 1, count: 16),
                                     encodeKey: P256.KeyAgreement.PrivateKey().publicKey, receipt: [], plaintextSize: ContainerFormat.maxPlaintextSizeV2 + 1)
        }
        #expect(error?.code == .malformedHeader)
    }

    @Test("sealing refuses a record id of the wrong size")
    func badRecordID() {
        #expect(throws: ContainerError.self) {
            try ContainerHeader.sealVersion1(recordID: [1, 2, 3], encodeKey: P256.KeyAgreement.PrivateKey().publicKey, receipt: [])
        }
        #expect(throws: ContainerError.self) {
            var source = MemorySource([1])
            var sink = MemorySink()
            try ContainerStream.seal(from: &source, to: &sink, recordID: [1], encodeKey: P256.KeyAgreement.PrivateKey().publicKey, receipt: [])
        }
    }
}
