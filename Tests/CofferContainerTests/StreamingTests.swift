import CofferContainer
import Crypto
import Foundation
import Testing

/// The one-pass pieces the client uses: hashing on another thread, and re-sealing while opening.
@Suite struct StreamingTests {
    @Test("the parallel hasher gives SHA-256 of everything it was given, in order, whatever the block sizes")
    func parallelHasherMatchesSHA256() {
        let bytes = randomBytes(1_000_003)
        let hasher = ParallelHasher(depth: 2)
        var offset = 0
        var step = 1
        while offset < bytes.count {
            let end = min(bytes.count, offset + step)
            if step % 2 == 0 { hasher.update(Array(bytes[offset..<end])) } else { hasher.update(Data(bytes[offset..<end])) }
            offset = end
            step = step * 3 + 1
        }
        let (digest, count) = hasher.finalize()
        #expect(Array(digest) == Array(SHA256.hash(data: bytes)))
        #expect(count == Int64(bytes.count))
        #expect(Array(ParallelHasher().finalize().sha256) == Array(SHA256.hash(data: [UInt8]())))
    }

    @Test("chunks opened from a container of either version seal straight into a version 2 one that opens to the same bytes",
          arguments: [UInt8(1), 2], [0, 1, 65_536, 65_537, 200_000])
    func resealWhileOpening(version: UInt8, size: Int) throws {
        let plaintext = randomBytes(size)
        let (container, oldKey) = try makeContainer(plaintext, version: version)
        var source = MemorySource(container)
        let header = try ContainerStream.readHeader(from: &source)
        let fileKey = try header.unwrapFileKey(decodeKey: oldKey)

        let newKey = P256.KeyAgreement.PrivateKey()
        var resealed = MemorySink()
        var writer = try ContainerWriter(to: &resealed)
        var opened: [UInt8] = []
        var lastFlags: [Bool] = []
        let total = try ContainerStream.open(from: &source, header: header, fileKey: fileKey) { chunk, isLast in
            opened += chunk
            lastFlags.append(isLast)
            try writer.append(chunk, isLast: isLast, to: &resealed)
        }
        #expect(total == Int64(size))
        #expect(opened == plaintext)
        #expect(lastFlags.filter { $0 }.count == 1 && lastFlags.last == true)
        try writer.finish(recordID: header.recordID, encodeKey: newKey.publicKey, receipt: Array("next".utf8), to: &resealed)
        #expect(resealed.bytes[7] == 2)
        #expect(try openContainer(resealed.bytes, newKey) == plaintext)
        #expect(throws: ContainerError.self) { try openContainer(resealed.bytes, oldKey) }
    }

    @Test("the parallel sink writes everything in order, and its first write error comes out of finish")
    func parallelSink() throws {
        let counter = ByteCounter()
        let sink = ParallelSink(counter, depth: 2)
        var expected: [UInt8] = []
        for n in 0..<200 {
            let block = [UInt8](repeating: UInt8(n), count: n * 7)
            expected += block
            try block.withUnsafeBytes { try sink.write($0) }
        }
        try sink.finish()
        #expect(counter.bytes == expected)

        let failing = ParallelSink(FailingSink(after: 1_000))
        for _ in 0..<10 { try [UInt8](repeating: 1, count: 300).withUnsafeBytes { try failing.write($0) } }
        #expect(throws: DiskFull.self) { try failing.finish() }
    }

    @Test("a file sink writes handed-over pieces in order, empty ones and slices included")
    func fileSinkWritesPieces() throws {
        let path = NSTemporaryDirectory() + "coffer-pieces-\(UUID().uuidString)"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0)
        defer { close(fd); unlink(path) }
        let pieces = (0..<150).map { Data(randomBytes($0 % 7 == 0 ? 0 : $0 * 37)) }
        var sink = FileDescriptorSink(fd: fd)
        try sink.write(owned: pieces)
        try sink.write(owned: [Data(randomBytes(70_000)).dropFirst(12)])
        let expected = pieces.reduce(Data(), +)
        let written = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(written.prefix(expected.count) == expected)
        #expect(written.count == expected.count + 70_000 - 12)
    }

    @Test("the parallel sink keeps what owns its descriptor alive until every queued write has run")
    func keepsOwnerAlive() throws {
        final class Owner {}
        var owner: Owner? = Owner()
        weak let watched = owner
        let gate = DispatchSemaphore(value: 0)
        var sink: ParallelSink<GatedSink>? = ParallelSink(GatedSink(gate: gate), keepingAlive: owner)
        try [UInt8](repeating: 1, count: 10).withUnsafeBytes { try sink?.write($0) }
        owner = nil
        sink = nil
        #expect(watched != nil, "a write is still queued: the owner must stay")
        gate.signal()
        for _ in 0..<500 where watched != nil { Thread.sleep(forTimeInterval: 0.01) }
        #expect(watched == nil, "once the queue ran, the owner goes")
    }

    @Test("the parallel sink's positional writes land after every write queued before them")
    func parallelSinkPositional() throws {
        let counter = ByteCounter()
        let sink = ParallelSink(counter, depth: 2)
        for n in 0..<50 { try [UInt8](repeating: UInt8(n), count: 1_000).withUnsafeBytes { try sink.write($0) } }
        try sink.write([9, 9, 9], at: 0)
        try sink.write([7], at: 49_999)
        try sink.finish()
        var expected = (0..<50).flatMap { [UInt8](repeating: UInt8($0), count: 1_000) }
        expected.replaceSubrange(0..<3, with: [9, 9, 9])
        expected[49_999] = 7
        #expect(counter.bytes == expected)
    }
}

/// Collects what is written (a class, so that the test can read it after the sink wrote on its thread).
final class ByteCounter: PositionalByteSink, @unchecked Sendable {
    var bytes: [UInt8] = []
    func write(_ buffer: UnsafeRawBufferPointer) throws { bytes += buffer }
    func write(_ bytes: [UInt8], at offset: Int64) throws { self.bytes.replaceSubrange(Int(offset)..<(Int(offset) + bytes.count), with: bytes) }
}

/// Fails once more than `after` bytes were written, like a full disk.
struct FailingSink: ByteSink {
    let after: Int
    var written = 0
    mutating func write(_ buffer: UnsafeRawBufferPointer) throws {
        written += buffer.count
        if written > after { throw DiskFull() }
    }
}

struct DiskFull: Error {}

/// Blocks each write until the test opens the gate.
struct GatedSink: ByteSink {
    let gate: DispatchSemaphore
    func write(_ buffer: UnsafeRawBufferPointer) throws { gate.wait() }
}
