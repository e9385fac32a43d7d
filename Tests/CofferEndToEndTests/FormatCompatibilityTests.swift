import CofferAPI
@testable import CofferContainer
import CofferTesting
import Crypto
import Foundation
import Testing

/// Containers written in format version 1, before the one-pass save, keep opening.
@Suite(.serialized) struct FormatCompatibilityTests {
    @Test("a version 1 container of a real record opens with coffer retrieve, is re-sealed as version 2, and that one opens")
    func versionOneOpensAndIsResealed() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("vera")
        let me = try identity(deployment, "vera")
        let plaintext = (0..<150_000).map { _ in UInt8.random(in: 0...255) }
        let container = deployment.directory + "/old.bin.coffer"

        // The save as a version 1 client made it: hash, ask, then seal with the receipt in the header.
        let call = Call(method: "POST", path: "/v1/save", body: try json(SaveRequest(
            fileName: "old.bin", sha256: Hex.encode(SHA256.hash(data: plaintext)), size: Int64(plaintext.count))))
        let reply = try await send(deployment, call, headers: try signed(call, token: me.token, signer: me.key))
        #expect(reply.status == 200, "\(reply.body.prefix(200))")
        let answer = try JSONDecoder().decode(SaveResponse.self, from: Data(reply.body.utf8))
        let encodeKey = try P256.KeyAgreement.PublicKey(x963Representation: try #require(Data(base64Encoded: answer.encodeKey)))
        let (header, fileKey) = try ContainerHeader.sealVersion1(recordID: try #require(RecordID.bytes(answer.recordID)), encodeKey: encodeKey,
                                                                 receipt: try answer.receipt.encoded())
        var source = MemorySource(plaintext)
        var sink = MemorySink()
        try ContainerStream.sealVersion1(from: &source, to: &sink, header: header, fileKey: fileKey)
        try Data(sink.bytes).write(to: URL(fileURLWithPath: container))

        #expect(try await deployment.coffer(["verify", container], user: "vera").status == 0)
        let opened = try await deployment.coffer(["retrieve", container, "-o", deployment.directory + "/old.1"], user: "vera")
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(opened.stdout.contains("re-sealed"), "\(opened.stdout)")
        #expect(FileManager.default.contents(atPath: deployment.directory + "/old.1") == Data(plaintext))
        let resealed = try #require(FileManager.default.contents(atPath: container))
        #expect(resealed[7] == 2, "the re-sealed container is written in version 2")

        let again = try await deployment.coffer(["retrieve", container, "-o", deployment.directory + "/old.2"], user: "vera")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(FileManager.default.contents(atPath: deployment.directory + "/old.2") == Data(plaintext))
    }
}
