import CofferAPI
import CofferAudit
import CofferContainer
import CofferDatabase
import CofferStorage
import CofferTimestamp
import CofferTransaction
import CofferWire
import Crypto
import Foundation
import Logging

/// The decoders that read untrusted bytes, one fuzz target each. Every target must return for any
/// input: throwing is fine, crashing, hanging or allocating without bound is a finding.
enum FuzzTargets {
    static let names = ["container", "api-json", "wire", "tokens", "audit"]

    /// Runs target `name` on one input.
    static func run(_ name: String, _ bytes: [UInt8]) {
        switch name {
        case "container": container(bytes)
        case "api-json": apiJSON(bytes)
        case "wire": wire(bytes)
        case "tokens": tokens(bytes)
        case "audit": audit(bytes)
        default: fatalError("unknown fuzz target \(name); one of \(names.joined(separator: ", "))")
        }
    }

    // MARK: container header and chunks

    /// A version 2 container of `size` patterned bytes sealed to `key`.
    static func container(size: Int, key: P256.KeyAgreement.PrivateKey) throws -> [UInt8] {
        var source = MemorySource((0..<size).map { UInt8(truncatingIfNeeded: $0) })
        var sink = MemorySink()
        try ContainerStream.seal(from: &source, to: &sink, recordID: Array(repeating: 3, count: 16), encodeKey: key.publicKey,
                                 receipt: Array(#"{"receipt":"seed"}"#.utf8))
        return sink.bytes
    }

    /// The published version 1 vectors (Tests/CofferContainerTests/Vectors): this build writes
    /// only version 2, so version 1 containers come from there.
    static func versionOneVectors() -> [(container: [UInt8], decodeKey: [UInt8])] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Tests/CofferContainerTests/Vectors")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasPrefix("v1-") && $0.hasSuffix(".json") }.sorted().compactMap { name in
            guard let data = try? Data(contentsOf: folder.appendingPathComponent(name)),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let file = object["containerFile"] as? String, let key = object["decodeKey"] as? String,
                  let container = try? Data(contentsOf: folder.appendingPathComponent(file))
            else { return nil }
            return (Array(container), Hex.decode(key) ?? [])
        }
    }

    /// Valid headers of both versions with their file keys, so that fuzzed payloads reach the
    /// chunk decoder: a version 2 header that declares 200,000 bytes, and a version 1 vector's.
    static let sealed: [(header: ContainerHeader, fileKey: SymmetricKey)] = {
        let key = P256.KeyAgreement.PrivateKey()
        var inputs = [(try! container(size: 200_000, key: key), key.rawRepresentation.map { $0 })]
        inputs += versionOneVectors().prefix(1).map { ($0.container, $0.decodeKey) }
        return inputs.compactMap { container, rawKey in
            guard let key = try? P256.KeyAgreement.PrivateKey(rawRepresentation: rawKey),
                  let header = try? ContainerHeader.parse(container).header,
                  let fileKey = try? header.unwrapFileKey(decodeKey: key)
            else { return nil }
            return (header, fileKey)
        }
    }()

    static func container(_ bytes: [UInt8]) {
        // The whole input as a container: header parsing, then (rarely) the rest.
        var source = MemorySource(bytes)
        _ = try? ContainerStream.readHeader(from: &source)
        _ = try? ContainerHeader.parse(bytes)
        // The input as the payload after a valid header of each version.
        for (header, fileKey) in sealed {
            var payload = MemorySource(bytes)
            var sink = MemorySink()
            _ = try? ContainerStream.open(from: &payload, to: &sink, header: header, fileKey: fileKey)
        }
    }

    // MARK: HTTPS JSON bodies

    static func apiJSON(_ bytes: [UInt8]) {
        let data = Data(bytes)
        let decoder = JSONDecoder()
        if let body = try? decoder.decode(RegisterRequest.self, from: data) { _ = Validation.isValidUserName(body.user) }
        _ = try? decoder.decode(LoginRequest.self, from: data)
        if let body = try? decoder.decode(SaveRequest.self, from: data) {
            _ = Validation.isValidFileName(body.fileName)
            _ = Validation.isSHA256Hex(body.sha256)
        }
        if let body = try? decoder.decode(RetrieveRequest.self, from: data) { _ = RecordID.bytes(body.recordID) }
        _ = try? decoder.decode(RecordRequest.self, from: data)
        _ = try? decoder.decode(IdentityRequest.self, from: data)
        _ = try? decoder.decode(AuditProofsRequest.self, from: data)
        if let receipt = try? decoder.decode(Receipt.self, from: data) { _ = receipt.canonicalBytes }
        if let body = try? decoder.decode(CentralUploadRequest.self, from: data) { _ = Validation.isSHA256Hex(body.sha256) }
        _ = try? decoder.decode(CentralUploadResponse.self, from: data)
        if let body = try? decoder.decode(ShareRequest.self, from: data) { _ = Validation.isValidUserName(body.grantee) }
        _ = try? decoder.decode(GrantsResponse.self, from: data)
    }

    // MARK: inter-tier messages, answered by a real handler over a SQLite store
    // (libFuzzer calls the target from one thread only.)

    nonisolated(unsafe) static let handler: RequestDispatcher = {
        let path = NSTemporaryDirectory() + "coffer-fuzz-\(getpid()).sqlite"
        var logger = Logger(label: "fuzz")
        logger.logLevel = .critical
        return try! RequestDispatcher(logger: logger) { try RecordStore(connection: SQLiteConnection(path: path)) }
    }()

    static func wire(_ bytes: [UInt8]) {
        _ = try? WireProtocol.decode(WireResponse.self, from: bytes)
        _ = handler.handleBatch([bytes, bytes])
    }

    // MARK: session tokens and RFC 3161 receipts

    static let sessionTokens = SessionTokens(kek: SymmetricKey(data: Array(repeating: UInt8(1), count: 32)))
    static let caPEM = """
        -----BEGIN CERTIFICATE-----
        MIIBeTCCAR+gAwIBAgIULyVf2oe1npLYwQo8TrZUPRUD8vgwCgYIKoZIzj0EAwIw
        EjEQMA4GA1UEAwwHRnV6eiBDQTAeFw0yNjExMjcwOTUwMzBaFw0zNjExMjQwOTUw
        MzBaMBIxEDAOBgNVBAMMB0Z1enogQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
        AARfoWi0ZB/vYUbRhwCUtpuePupwKEZENbD+Fr4U6nOrZ1BSKVi76zYkFFgfWlBJ
        x/4UTzukJAGV99TrSHcIwifbo1MwUTAdBgNVHQ4EFgQUtcik4sVzcVP+ssirOKL+
        eCFhPjkwHwYDVR0jBBgwFoAUtcik4sVzcVP+ssirOKL+eCFhPjkwDwYDVR0TAQH/
        BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAhDrbVy01n7j97NoGXH8jiT8HnXcG
        wJ+usXvlRpixdqgCIBcBKQU58+Yl4LslP6LnRP5xRrNzl06hrooQ5+9Q1Per
        -----END CERTIFICATE-----
        """

    static func tokens(_ bytes: [UInt8]) {
        _ = try? sessionTokens.session(for: String(decoding: bytes, as: UTF8.self))
        _ = try? TimestampVerifier.verify(token: bytes, sha256: Array(repeating: 0, count: 32), caPEM: caPEM)
        _ = Hex.decode(String(decoding: bytes, as: UTF8.self))
    }

    // MARK: audit log formats and proofs

    static func audit(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = try? SignedNote(parsing: text)
        _ = try? Checkpoint(text: text)
        _ = try? AuditLeaf(bytes: bytes)
        _ = try? NoteVerifier(parsing: text)
        // Proof checks with sizes and hashes taken from the input.
        guard bytes.count >= 16 else { return }
        func number(_ at: Int) -> Int64 {
            bytes[at..<(at + 8)].reduce(Int64(0)) { ($0 << 8) | Int64($1) } & 0x0000_FFFF_FFFF_FFFF
        }
        let rest = Array(bytes.dropFirst(16))
        let hashes = stride(from: 0, to: rest.count - rest.count % 32, by: 32).map { Array(rest[$0..<($0 + 32)]) }
        let root = hashes.first ?? MerkleHash.empty
        _ = try? MerkleProof.verifyInclusion(leafHash: MerkleHash.leaf(rest), index: number(0), size: number(8), proof: Array(hashes.dropFirst()), root: root)
        _ = try? MerkleProof.verifyConsistency(oldSize: number(0), newSize: number(8), oldRoot: root, newRoot: root, proof: Array(hashes.dropFirst()))
    }
}
