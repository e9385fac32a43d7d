import CofferContainer
import Crypto
import Foundation
import Testing

/// Seals `plaintext` in memory under a fresh key pair and returns the container and decode key.
func makeContainer(_ plaintext: [UInt8], receipt: [UInt8] = Array(#"{"receipt":"test"}"#.utf8)) throws -> ([UInt8], P256.KeyAgreement.PrivateKey) {
    let decodeKey = P256.KeyAgreement.PrivateKey()
    let recordID = (0..<16).map { UInt8($0) }
    let (header, fileKey) = try ContainerHeader.seal(recordID: recordID, encodeKey: decodeKey.publicKey, receipt: receipt)
    var source = MemorySource(plaintext)
    var sink = MemorySink()
    try ContainerStream.seal(from: &source, to: &sink, header: header, fileKey: fileKey)
    return (sink.bytes, decodeKey)
}

/// Opens a container in memory; returns the plaintext or throws the container error.
func openContainer(_ container: [UInt8], _ decodeKey: P256.KeyAgreement.PrivateKey) throws -> [UInt8] {
    var source = MemorySource(container)
    let header = try ContainerStream.readHeader(from: &source)
    let fileKey = try header.unwrapFileKey(decodeKey: decodeKey)
    var sink = MemorySink()
    let (digest, size) = try ContainerStream.open(from: &source, to: &sink, header: header, fileKey: fileKey)
    #expect(Array(digest) == Array(SHA256.hash(data: sink.bytes)))
    #expect(size == Int64(sink.bytes.count))
    return sink.bytes
}

func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

@Suite struct ContainerStreamTests {
    @Test("round trip at and around chunk boundaries", arguments: [0, 1, 100, 65_535, 65_536, 65_537, 131_072, 200_000])
    func roundTrip(size: Int) throws {
        let plaintext = randomBytes(size)
        let (container, key) = try makeContainer(plaintext)
        let chunks = max(1, (size + 65_535) / 65_536)
        let expectedSize = ContainerFormat.fixedHeaderSize + 18 + ContainerFormat.macSize + size + chunks * 16
        #expect(container.count == expectedSize)
        #expect(try openContainer(container, key) == plaintext)
    }

    @Test("every single flipped byte of a small container is refused")
    func everyFlippedByteRefused() throws {
        let (container, key) = try makeContainer(randomBytes(300))
        for position in container.indices {
            var altered = container
            altered[position] ^= 0x01
            #expect(throws: ContainerError.self, "flip at \(position) was accepted") {
                try openContainer(altered, key)
            }
        }
    }

    @Test("every truncation of a small container is refused")
    func everyTruncationRefused() throws {
        let (container, key) = try makeContainer(randomBytes(300))
        for length in 0..<container.count {
            #expect(throws: ContainerError.self, "truncation to \(length) was accepted") {
                try openContainer(Array(container.prefix(length)), key)
            }
        }
    }

    @Test("flips and truncations around the chunk boundaries of a multi-chunk container are refused")
    func multiChunkDamageRefused() throws {
        let (container, key) = try makeContainer(randomBytes(3 * 65_536 + 10))
        let payloadStart = container.count - (3 * 65_552 + 26)
        var positions: [Int] = []
        for chunk in 0...3 {
            let start = payloadStart + chunk * 65_552
            positions += [start, start + 1, start + 65_535, start + 65_536, start + 65_551].filter { $0 < container.count }
        }
        positions.append(container.count - 1)
        for position in positions {
            var altered = container
            altered[position] ^= 0x80
            #expect(throws: ContainerError.self, "flip at \(position) was accepted") { try openContainer(altered, key) }
        }
        for chunk in 1...3 {
            let boundary = payloadStart + chunk * 65_552
            for length in [boundary - 1, boundary, boundary + 1] {
                #expect(throws: ContainerError.self, "truncation to \(length) was accepted") {
                    try openContainer(Array(container.prefix(length)), key)
                }
            }
        }
    }

    @Test("a truncation exactly at a chunk boundary is reported as truncated")
    func truncationAtBoundaryIsNamed() throws {
        let (container, key) = try makeContainer(randomBytes(2 * 65_536 + 5))
        let payloadStart = container.count - (2 * 65_552 + 21)
        let error = #expect(throws: ContainerError.self) {
            try openContainer(Array(container.prefix(payloadStart + 2 * 65_552)), key)
        }
        #expect(error?.code == .truncated)
    }

    @Test("appended bytes and swapped chunks are refused")
    func appendedAndSwappedRefused() throws {
        let (container, key) = try makeContainer(randomBytes(2 * 65_536 + 5))
        #expect(throws: ContainerError.self) { try openContainer(container + [0], key) }
        let payloadStart = container.count - (2 * 65_552 + 21)
        var swapped = container
        let first = Array(container[payloadStart..<(payloadStart + 65_552)])
        let second = Array(container[(payloadStart + 65_552)..<(payloadStart + 2 * 65_552)])
        swapped.replaceSubrange(payloadStart..<(payloadStart + 2 * 65_552), with: second + first)
        #expect(throws: ContainerError.self) { try openContainer(swapped, key) }
    }

    @Test("another key pair's decode key is refused as the wrong key")
    func wrongKeyRefused() throws {
        let (container, _) = try makeContainer(randomBytes(10))
        let error = #expect(throws: ContainerError.self) { try openContainer(container, P256.KeyAgreement.PrivateKey()) }
        #expect(error?.code == .wrongKey)
    }
}
