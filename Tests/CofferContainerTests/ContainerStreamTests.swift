@testable import CofferContainer
import Crypto
import Foundation
import Testing

/// Seals `plaintext` in memory under a fresh key pair, as format `version` (2, what this build
/// writes, or 1 through the test-only writer), and returns the container and decode key.
func makeContainer(
    _ plaintext: [UInt8], version: UInt8 = 2, receipt: [UInt8] = Array(#"{"receipt":"test"}"#.utf8)
) throws -> ([UInt8], P256.KeyAgreement.PrivateKey) {
    let decodeKey = P256.KeyAgreement.PrivateKey()
    let recordID = (0..<16).map { UInt8($0) }
    var source = MemorySource(plaintext)
    var sink = MemorySink()
    if version == 1 {
        let (header, fileKey) = try ContainerHeader.sealVersion1(recordID: recordID, encodeKey: decodeKey.publicKey, receipt: receipt)
        try ContainerStream.sealVersion1(from: &source, to: &sink, header: header, fileKey: fileKey)
    } else {
        try ContainerStream.seal(from: &source, to: &sink, recordID: recordID, encodeKey: decodeKey.publicKey, receipt: receipt)
    }
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

/// Where the sealed payload of a well-formed container lies.
func payloadRange(_ container: [UInt8]) throws -> Range<Int> {
    try ContainerHeader.parse(container).payload
}

func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

/// What both format versions promise: every alteration, truncation, extension and reordering is refused.
@Suite struct ContainerStreamTests {
    static let versions: [UInt8] = [1, 2]

    @Test("round trip at and around chunk boundaries", arguments: versions, [0, 1, 100, 65_535, 65_536, 65_537, 131_072, 200_000])
    func roundTrip(version: UInt8, size: Int) throws {
        let plaintext = randomBytes(size)
        let (container, key) = try makeContainer(plaintext, version: version)
        let chunks = max(1, (size + 65_535) / 65_536)
        let headerSize = version == 1 ? ContainerFormat.fixedHeaderSize + ContainerFormat.macSize : ContainerFormat.headerSizeV2
        #expect(container.count == headerSize + 18 + size + chunks * 16)
        #expect(container[7] == version)
        #expect(try openContainer(container, key) == plaintext)
    }

    @Test("every single flipped byte of a small container is refused", arguments: versions)
    func everyFlippedByteRefused(version: UInt8) throws {
        let (container, key) = try makeContainer(randomBytes(300), version: version)
        for position in container.indices {
            var altered = container
            altered[position] ^= 0x01
            #expect(throws: ContainerError.self, "flip at \(position) was accepted") {
                try openContainer(altered, key)
            }
        }
    }

    @Test("every truncation of a small container is refused", arguments: versions)
    func everyTruncationRefused(version: UInt8) throws {
        let (container, key) = try makeContainer(randomBytes(300), version: version)
        for length in 0..<container.count {
            #expect(throws: ContainerError.self, "truncation to \(length) was accepted") {
                try openContainer(Array(container.prefix(length)), key)
            }
        }
    }

    @Test("flips and truncations around the chunk boundaries of a multi-chunk container are refused", arguments: versions)
    func multiChunkDamageRefused(version: UInt8) throws {
        let (container, key) = try makeContainer(randomBytes(3 * 65_536 + 10), version: version)
        let payloadStart = try payloadRange(container).lowerBound
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

    @Test("a version 1 container cut exactly at a chunk boundary is reported as truncated")
    func truncationAtBoundaryIsNamed() throws {
        let (container, key) = try makeContainer(randomBytes(2 * 65_536 + 5), version: 1)
        let payloadStart = try payloadRange(container).lowerBound
        let error = #expect(throws: ContainerError.self) {
            try openContainer(Array(container.prefix(payloadStart + 2 * 65_552)), key)
        }
        #expect(error?.code == .truncated)
    }

    @Test("a version 2 container whose size is not what its header declares is refused before any chunk is read")
    func versionTwoSizeChecked() throws {
        let (container, key) = try makeContainer(randomBytes(2 * 65_536 + 5))
        for cut in [1, 20, 65_552] {
            var source = MemorySource(Array(container.dropLast(cut)))
            let error = #expect(throws: ContainerError.self) { try ContainerStream.readHeader(from: &source) }
            #expect(error?.code == .truncated)
        }
        var longer = MemorySource(container + [0])
        let error = #expect(throws: ContainerError.self) { try ContainerStream.readHeader(from: &longer) }
        #expect(error?.code == .trailingData)
        #expect(try openContainer(container, key).count == 2 * 65_536 + 5)
    }

    @Test("appended bytes and swapped chunks are refused", arguments: versions)
    func appendedAndSwappedRefused(version: UInt8) throws {
        let (container, key) = try makeContainer(randomBytes(2 * 65_536 + 5), version: version)
        #expect(throws: ContainerError.self) { try openContainer(container + [0], key) }
        let payloadStart = try payloadRange(container).lowerBound
        var swapped = container
        let first = Array(container[payloadStart..<(payloadStart + 65_552)])
        let second = Array(container[(payloadStart + 65_552)..<(payloadStart + 2 * 65_552)])
        swapped.replaceSubrange(payloadStart..<(payloadStart + 2 * 65_552), with: second + first)
        #expect(throws: ContainerError.self) { try openContainer(swapped, key) }
    }

    @Test("a payload moved under another container's header does not open", arguments: versions)
    func payloadBoundToItsContainer(version: UInt8) throws {
        let plaintext = randomBytes(70_000)
        let (first, key) = try makeContainer(plaintext, version: version)
        let (second, _) = try makeContainer(plaintext, version: version)
        // The second container's header (and, in version 2, receipt) around the first one's payload,
        // decoded with the first one's key: the key does not unwrap the other header.
        let firstPayload = try payloadRange(first), secondPayload = try payloadRange(second)
        let spliced = Array(second[..<secondPayload.lowerBound]) + Array(first[firstPayload]) + Array(second[secondPayload.upperBound...])
        #expect(throws: ContainerError.self) { try openContainer(spliced, key) }
        // And the first one's header around the second one's payload: the chunks are not sealed
        // under the first one's file key.
        let reverse = Array(first[..<firstPayload.lowerBound]) + Array(second[secondPayload]) + Array(first[firstPayload.upperBound...])
        let error = #expect(throws: ContainerError.self) { try openContainer(reverse, key) }
        #expect(error?.code == .chunkAuthenticationFailed)
    }

    @Test("an empty chunk after a full one is refused: a full chunk is the last one itself")
    func emptyChunkAfterFullRefused() throws {
        let plaintext = randomBytes(65_536)
        let decodeKey = P256.KeyAgreement.PrivateKey()
        let (header, fileKey) = try ContainerHeader.sealVersion1(recordID: Array(repeating: 1, count: 16), encodeKey: decodeKey.publicKey, receipt: [])
        var cipher = ChunkCipher(header: header, fileKey: fileKey)
        let container = header.serialized + Array(try cipher.seal(plaintext, isLast: false)) + Array(try cipher.seal([UInt8](), isLast: true))
        let error = #expect(throws: ContainerError.self) { try openContainer(container, decodeKey) }
        #expect(error?.code == .trailingData)
    }

    @Test("another key pair's decode key is refused as the wrong key", arguments: versions)
    func wrongKeyRefused(version: UInt8) throws {
        let (container, _) = try makeContainer(randomBytes(10), version: version)
        let error = #expect(throws: ContainerError.self) { try openContainer(container, P256.KeyAgreement.PrivateKey()) }
        #expect(error?.code == .wrongKey)
    }
}
