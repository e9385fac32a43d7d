import CofferContainer
import CofferTesting
import Foundation
import Testing

/// RFC 3161 receipts, checked by coffer offline and by openssl without Coffer.
@Suite(.serialized) struct ReceiptEndToEndTests {
    @Test("coffer verify accepts a fresh container's receipt offline; openssl ts -verify accepts it and rejects altered data")
    func verifyAndOpenssl() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("lena")
        let file = deployment.directory + "/contract.txt"
        try Data("the contract".utf8).write(to: URL(fileURLWithPath: file))
        #expect(try await deployment.coffer(["save", file], user: "lena").status == 0)

        await deployment.database?.stop()
        let verified = try await deployment.coffer(["verify", file + ".coffer", "--json"], user: "lena")
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("\"fileName\" : \"contract.txt\""))

        let out = deployment.directory + "/receipt"
        let exported = try await deployment.coffer(["receipt", file + ".coffer", "--out", out], user: "lena")
        #expect(exported.status == 0, "\(exported.stderr)")
        let ok = try await TestCertificates.openssl(["ts", "-verify", "-data", out + "/receipt.dat", "-in", out + "/receipt.tst", "-token_in", "-CAfile", deployment.caFile], in: deployment.directory)
        #expect(ok.contains("Verification: OK"))
        var data = try Data(contentsOf: URL(fileURLWithPath: out + "/receipt.dat"))
        data[data.count - 1] ^= 1
        try data.write(to: URL(fileURLWithPath: out + "/receipt.dat"))
        await #expect(throws: TestError.self) {
            try await TestCertificates.openssl(["ts", "-verify", "-data", out + "/receipt.dat", "-in", out + "/receipt.tst", "-token_in", "-CAfile", deployment.caFile], in: deployment.directory)
        }
    }

    @Test("coffer verify refuses a receipt checked against another CA, and an altered receipt")
    func verifyRefusals() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("mona")
        let file = deployment.directory + "/a.txt"
        try Data("a".utf8).write(to: URL(fileURLWithPath: file))
        #expect(try await deployment.coffer(["save", file], user: "mona").status == 0)
        let other = try await TestCertificates.make(in: deployment.directory + "/other-ca")
        let foreign = try await deployment.coffer(["verify", file + ".coffer", "--ca", other.caCertificate], user: "mona")
        #expect(foreign.status == 65)

        // Change the receipt's size field (same length): the container is refused before anything else.
        var container = try Data(contentsOf: URL(fileURLWithPath: file + ".coffer"))
        let marker = Data("\"size\":1".utf8)
        let range = try #require(container.range(of: marker))
        container[range.upperBound - 1] = UInt8(ascii: "2")
        try container.write(to: URL(fileURLWithPath: file + ".altered.coffer"))
        let altered = try await deployment.coffer(["verify", file + ".altered.coffer"], user: "mona")
        #expect(altered.status == 65, "\(altered.stdout)")
    }

    @Test("a container whose receipt was swapped for another record's is refused and leaves no output")
    func swappedReceipt() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("nina")
        let a = deployment.directory + "/a.txt"
        let b = deployment.directory + "/b.txt"
        try Data("first file".utf8).write(to: URL(fileURLWithPath: a))
        try Data("second file".utf8).write(to: URL(fileURLWithPath: b))
        #expect(try await deployment.coffer(["save", a], user: "nina").status == 0)
        #expect(try await deployment.coffer(["save", b], user: "nina").status == 0)
        let swapped = try Self.swapReceipt(of: Data(contentsOf: URL(fileURLWithPath: a + ".coffer")), with: Data(contentsOf: URL(fileURLWithPath: b + ".coffer")))
        try swapped.write(to: URL(fileURLWithPath: deployment.directory + "/swapped.coffer"))
        let result = try await deployment.coffer(["retrieve", deployment.directory + "/swapped.coffer", "-o", deployment.directory + "/out"], user: "nina")
        #expect(result.status == 65, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: deployment.directory + "/out"))
    }

    /// Container A with container B's receipt (and receipt length) in place of its own.
    static func swapReceipt(of a: Data, with b: Data) throws -> Data {
        var (header, payload) = try ContainerHeader.parse(Array(a))
        header.receipt = try ContainerHeader.parse(Array(b)).header.receipt
        return Data(header.leadingBytes + Array(a)[payload] + header.trailer)
    }
}
