@testable import CofferContainer
import Crypto
import Foundation
import Testing

/// The published test vectors (docs/FORMAT.md, Tests/CofferContainerTests/Vectors), decoded by this
/// implementation with every intermediate value checked, and by an independent one
/// (Tests/Interop/decode_container.py, on Python's `cryptography`).
@Suite struct TestVectorTests {
    struct Vector: Codable {
        var description: String
        var version: UInt8
        var decodeKey: String
        var fileKey: String
        var headerKey: String
        var payloadKey: String
        var hpkeSharedSecret: String
        var recordID: String
        var receipt: String
        var plaintextSize: Int
        /// The plaintext as text; absent for the patterned ones (byte *i* is *i* mod 251).
        var plaintextText: String?
        var plaintextSHA256: String
        var containerFile: String
        var containerSize: Int
        var containerSHA256: String
        /// The container in hex, for the small ones.
        var container: String?

        var plaintext: [UInt8] {
            plaintextText.map { Array($0.utf8) } ?? TestVectorTests.pattern(plaintextSize)
        }
    }

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop/decode_container.py").path
    /// The vectors each version publishes: name, plaintext size, text.
    static let published: [(name: String, size: Int, text: String?)] = [
        ("one-chunk", 40, nil), ("empty", 0, nil), ("65536", 65_536, nil), ("65537", 65_537, nil), ("three-chunks", 2 * 65_536 + 100, nil),
    ]
    static var vectorPaths: [String] {
        [UInt8(1), 2].flatMap { version in published.map { folder.appendingPathComponent("v\(version)-\($0.name).json").path } }
    }

    static func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8($0 % 251) } }

    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func unhex(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            out.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    /// The HPKE shared secret the recipient derives (RFC 9180 §4.1, DHKEM(P-256, HKDF-SHA256)).
    static func sharedSecret(decodeKey: P256.KeyAgreement.PrivateKey, enc: [UInt8]) throws -> [UInt8] {
        let suiteID = Array("KEM".utf8) + [0x00, 0x10]
        let dh = try decodeKey.sharedSecretFromKeyAgreement(with: P256.KeyAgreement.PublicKey(x963Representation: enc))
        let dhBytes = dh.withUnsafeBytes { Array($0) }
        let prk = HKDF<SHA256>.extract(inputKeyMaterial: SymmetricKey(data: Array("HPKE-v1".utf8) + suiteID + Array("eae_prk".utf8) + dhBytes),
                                       salt: [UInt8]())
        let context = enc + Array(decodeKey.publicKey.x963Representation)
        let info = [0x00, 0x20] + Array("HPKE-v1".utf8) + suiteID + Array("shared_secret".utf8) + context
        return HKDF<SHA256>.expand(pseudoRandomKey: prk, info: info, outputByteCount: 32).withUnsafeBytes { Array($0) }
    }

    static func load(_ path: String) throws -> (Vector, [UInt8]) {
        let vector = try JSONDecoder().decode(Vector.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        let container = try Array(Data(contentsOf: folder.appendingPathComponent(vector.containerFile)))
        return (vector, container)
    }

    @Test("every published vector opens to its plaintext, with its file key, header key, payload key and HPKE shared secret",
          arguments: vectorPaths)
    func vectorDecodes(path: String) throws {
        let (vector, container) = try Self.load(path)
        #expect(container.count == vector.containerSize)
        #expect(Self.hex(SHA256.hash(data: container)) == vector.containerSHA256)
        if let inline = vector.container { #expect(Self.unhex(inline) == container) }
        let key = try P256.KeyAgreement.PrivateKey(rawRepresentation: Self.unhex(vector.decodeKey))
        var source = MemorySource(container)
        let header = try ContainerStream.readHeader(from: &source)
        #expect(header.version == vector.version)
        #expect(Self.hex(header.recordID) == vector.recordID)
        #expect(header.receipt == Array(vector.receipt.utf8))
        let fileKey = try header.unwrapFileKey(decodeKey: key)
        #expect(Self.hex(fileKey.withUnsafeBytes { Array($0) }) == vector.fileKey)
        let headerKey = ContainerHeader.headerKey(fileKey: fileKey, salt: header.salt, version: header.version)
        let payloadKey = ContainerHeader.payloadKey(fileKey: fileKey, salt: header.salt, version: header.version)
        #expect(Self.hex(headerKey.withUnsafeBytes { Array($0) }) == vector.headerKey)
        #expect(Self.hex(payloadKey.withUnsafeBytes { Array($0) }) == vector.payloadKey)
        #expect(Self.hex(try Self.sharedSecret(decodeKey: key, enc: header.encapsulatedKey)) == vector.hpkeSharedSecret)
        let plaintext = try openContainer(container, key)
        #expect(plaintext == vector.plaintext)
        #expect(plaintext.count == vector.plaintextSize)
        #expect(Self.hex(SHA256.hash(data: plaintext)) == vector.plaintextSHA256)
    }

    @Test("an independent implementation decodes every vector and a fresh multi-chunk container of each version",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") || ProcessInfo.processInfo.environment["COFFER_REQUIRE_INTEROP"] == "1"))
    func independentDecoder() throws {
        guard try pythonHasHPKE() else { return }
        let vectors = try runPython([Self.script] + Self.vectorPaths)
        #expect(vectors.status == 0, "\(vectors.output)")
        #expect(vectors.output.components(separatedBy: "ok:").count - 1 == Self.vectorPaths.count, "\(vectors.output)")

        for version in [UInt8(1), 2] {
            let plaintext = randomBytes(2 * 65_536 + 123)
            let (container, key) = try makeContainer(plaintext, version: version)
            let path = NSTemporaryDirectory() + "coffer-interop-\(UUID().uuidString).coffer"
            try Data(container).write(to: URL(fileURLWithPath: path))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let decoded = try runPython([Self.script, "--open", path, Self.hex(key.rawRepresentation)])
            #expect(decoded.status == 0, "\(decoded.output)")
            #expect(decoded.data == Data(plaintext))
        }
    }

    @Test("the independent decoder refuses altered vectors",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") || ProcessInfo.processInfo.environment["COFFER_REQUIRE_INTEROP"] == "1"))
    func independentDecoderRefuses() throws {
        guard try pythonHasHPKE() else { return }
        for version in [UInt8(1), 2] {
            let (vector, container) = try Self.load(Self.folder.appendingPathComponent("v\(version)-three-chunks.json").path)
            for (label, altered) in [("flipped", { var c = container; c[container.count / 2] ^= 1; return c }()),
                                     ("truncated", Array(container.dropLast(1))), ("extended", container + [0])] {
                let path = NSTemporaryDirectory() + "coffer-interop-\(UUID().uuidString).coffer"
                try Data(altered).write(to: URL(fileURLWithPath: path))
                defer { try? FileManager.default.removeItem(atPath: path) }
                let decoded = try runPython([Self.script, "--open", path, vector.decodeKey])
                #expect(decoded.status == 1, "version \(version), \(label): \(decoded.output)")
            }
        }
    }

    /// Writes the published vectors that are missing, under fresh random keys (published ones are
    /// never rewritten): `COFFER_WRITE_VECTORS=1 swift test --filter writeVectors`.
    @Test("write the published vectors", .enabled(if: ProcessInfo.processInfo.environment["COFFER_WRITE_VECTORS"] == "1"))
    func writeVectors() throws {
        let recordID = (0..<16).map { UInt8($0) }
        let receipt = #"{"note":"test vector"}"#
        for version in [UInt8(1), 2] {
            for (name, size, _) in Self.published {
                guard !FileManager.default.fileExists(atPath: Self.folder.appendingPathComponent("v\(version)-\(name).json").path) else { continue }
                let text = name == "one-chunk" ? "Coffer container format v\(version) test vector.\n" : nil
                let plaintext = text.map { Array($0.utf8) } ?? Self.pattern(size)
                let key = P256.KeyAgreement.PrivateKey()
                var source = MemorySource(plaintext)
                var sink = MemorySink()
                if version == 1 {
                    let (header, fileKey) = try ContainerHeader.sealVersion1(recordID: recordID, encodeKey: key.publicKey, receipt: Array(receipt.utf8))
                    try ContainerStream.sealVersion1(from: &source, to: &sink, header: header, fileKey: fileKey)
                } else {
                    try ContainerStream.seal(from: &source, to: &sink, recordID: recordID, encodeKey: key.publicKey, receipt: Array(receipt.utf8))
                }
                let container = sink.bytes
                var reader = MemorySource(container)
                let header = try ContainerStream.readHeader(from: &reader)
                let fileKey = try header.unwrapFileKey(decodeKey: key)
                let file = "v\(version)-\(name).coffer"
                let vector = Vector(
                    description: "Coffer container format v\(version): \(name) (\(plaintext.count) bytes); decodeKey is the raw P-256 private scalar",
                    version: version, decodeKey: Self.hex(key.rawRepresentation), fileKey: Self.hex(fileKey.withUnsafeBytes { Array($0) }),
                    headerKey: Self.hex(ContainerHeader.headerKey(fileKey: fileKey, salt: header.salt, version: version).withUnsafeBytes { Array($0) }),
                    payloadKey: Self.hex(ContainerHeader.payloadKey(fileKey: fileKey, salt: header.salt, version: version).withUnsafeBytes { Array($0) }),
                    hpkeSharedSecret: Self.hex(try Self.sharedSecret(decodeKey: key, enc: header.encapsulatedKey)),
                    recordID: Self.hex(recordID), receipt: receipt, plaintextSize: plaintext.count, plaintextText: text,
                    plaintextSHA256: Self.hex(SHA256.hash(data: plaintext)), containerFile: file, containerSize: container.count,
                    containerSHA256: Self.hex(SHA256.hash(data: container)), container: container.count <= 1_024 ? Self.hex(container) : nil
                )
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try encoder.encode(vector).write(to: Self.folder.appendingPathComponent("v\(version)-\(name).json"))
                try Data(container).write(to: Self.folder.appendingPathComponent(file))
            }
        }
    }

    /// Whether python3 has `cryptography` with HPKE; where CI requires the interop check, its
    /// absence is a failure, not a skip.
    private func pythonHasHPKE() throws -> Bool {
        let probe = try runPython(["-c", "import cryptography.hazmat.primitives.hpke"])
        if probe.status != 0 {
            #expect(ProcessInfo.processInfo.environment["COFFER_REQUIRE_INTEROP"] != "1", "python3 lacks cryptography with HPKE: \(probe.output)")
        }
        return probe.status == 0
    }

    private func runPython(_ arguments: [String]) throws -> (status: Int32, output: String, data: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: errors, as: UTF8.self) + String(decoding: data.prefix(4_000), as: UTF8.self), data)
    }
}
