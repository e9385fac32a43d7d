import CofferAPI
import Crypto
import Testing

@Suite struct ReceiptTests {
    var receipt: Receipt {
        Receipt(recordID: "4c2c0ddb-3def-4465-96b6-eaa6deef9fd1", owner: "alice", clientID: "0b6f7a52-0a7e-4d39-9d6a-1d1c4f6d2a11",
                fileName: "a.txt", sha256: String(repeating: "ab", count: 32), size: 10, time: 1_700_000_000_000,
                encodeKeyID: String(repeating: "cd", count: 32), token: "AAAA")
    }

    @Test("a receipt survives its JSON form")
    func jsonRoundTrip() throws {
        #expect(try Receipt.decode(try receipt.encoded()) == receipt)
        #expect(try receipt.encoded() == receipt.encoded(), "stable encoding")
    }

    @Test("changing any time-stamped field changes the imprint; the token is not part of it")
    func imprintCoversEveryField() {
        var copies = Array(repeating: receipt, count: 8)
        copies[0].recordID = "00000000-0000-0000-0000-000000000000"
        copies[1].owner = "mallory"
        copies[2].clientID = "another"
        copies[3].fileName = "b.txt"
        copies[4].sha256 = String(repeating: "00", count: 32)
        copies[5].size = 11
        copies[6].time += 1
        copies[7].encodeKeyID = String(repeating: "00", count: 32)
        for copy in copies { #expect(copy.imprint != receipt.imprint) }
        var retokened = receipt
        retokened.token = "BBBB"
        #expect(retokened.imprint == receipt.imprint)
    }

    @Test("field boundaries cannot be shifted: length prefixes keep fields apart")
    func canonicalBytesAreUnambiguous() {
        var a = receipt
        var b = receipt
        a.owner = "ab"
        a.fileName = "c"
        b.owner = "a"
        b.fileName = "bc"
        #expect(a.canonicalBytes != b.canonicalBytes)
    }
}

@Suite struct ValidationTests {
    @Test("user names", arguments: [("alice", true), ("a.b-c_d9", true), ("", false), ("Alice", false), (".alice", false), ("a/b", false), (String(repeating: "a", count: 65), false)])
    func userNames(name: String, valid: Bool) {
        #expect(Validation.isValidUserName(name) == valid)
    }

    @Test("file names", arguments: [("report.pdf", true), ("a b", true), ("", false), ("..", false), ("a/b", false), ("a\nb", false), (String(repeating: "x", count: 256), false)])
    func fileNames(name: String, valid: Bool) {
        #expect(Validation.isValidFileName(name) == valid)
    }

    @Test("passwords shorter than eight characters are refused")
    func passwords() {
        #expect(Validation.passwordProblem("short") != nil)
        #expect(Validation.passwordProblem("long enough") == nil)
        #expect(Validation.passwordProblem(String(repeating: "x", count: 2000)) != nil)
    }

    @Test("hex and record ids round trip")
    func encodings() {
        let bytes: [UInt8] = [0, 1, 0xAB, 0xFF]
        #expect(Hex.decode(Hex.encode(bytes)) == bytes)
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
        let id = RecordID.random()
        #expect(RecordID.text(id).flatMap(RecordID.bytes) == id)
        #expect(RecordID.text([1, 2, 3]) == nil, "an id of another length is refused, not trapped")
        #expect(RecordID.bytes("not-a-uuid") == nil)
        #expect(Validation.isSHA256Hex(String(repeating: "0f", count: 32)))
        #expect(!Validation.isSHA256Hex(String(repeating: "0F", count: 32)))
    }
}
