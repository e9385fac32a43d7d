import CofferContainer
import Crypto
import Foundation
import Testing

/// The published test vector (docs/FORMAT.md), decoded by this implementation and by an
/// independent one (Tests/Interop/decode_container.py, on Python's `cryptography`).
@Suite struct TestVectorTests {
    struct Vector: Decodable {
        let decodeKey: String
        let fileKey: String
        let container: String
        let plaintext: String
    }

    static let vectorPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/container-v1.json").path

    static func load() throws -> Vector {
        try JSONDecoder().decode(Vector.self, from: Data(contentsOf: URL(fileURLWithPath: vectorPath)))
    }

    static func hex(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            out.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    @Test("the published vector opens to its plaintext with its file key")
    func vectorDecodes() throws {
        let vector = try Self.load()
        let key = try P256.KeyAgreement.PrivateKey(rawRepresentation: Self.hex(vector.decodeKey))
        var source = MemorySource(Self.hex(vector.container))
        let header = try ContainerStream.readHeader(from: &source)
        let fileKey = try header.unwrapFileKey(decodeKey: key)
        #expect(fileKey.withUnsafeBytes { Array($0) } == Self.hex(vector.fileKey))
        #expect(try openContainer(Self.hex(vector.container), key) == Array(vector.plaintext.utf8))
    }

    @Test("an independent implementation decodes the vector and a fresh multi-chunk container",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") || ProcessInfo.processInfo.environment["COFFER_REQUIRE_INTEROP"] == "1"))
    func independentDecoder() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Interop/decode_container.py").path
        let probe = try runPython(["-c", "import cryptography.hazmat.primitives.hpke"])
        if probe.status != 0 {
            #expect(ProcessInfo.processInfo.environment["COFFER_REQUIRE_INTEROP"] != "1", "python3 lacks cryptography with HPKE: \(probe.output)")
            return
        }
        let vector = try runPython([script, Self.vectorPath])
        #expect(vector.status == 0, "\(vector.output)")

        let plaintext = randomBytes(2 * 65_536 + 123)
        let (container, key) = try makeContainer(plaintext)
        let path = NSTemporaryDirectory() + "coffer-interop-\(UUID().uuidString).coffer"
        try Data(container).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let keyHex = key.rawRepresentation.map { String(format: "%02x", $0) }.joined()
        let decoded = try runPython([script, path, keyHex])
        #expect(decoded.status == 0)
        #expect(decoded.data == Data(plaintext))
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
        return (process.terminationStatus, String(decoding: errors, as: UTF8.self), data)
    }
}
