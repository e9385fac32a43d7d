import CofferAPI
import CofferAudit
import CofferContainer
import CofferTransaction
import CofferWire
import Crypto
import Foundation

/// Well-formed inputs for each target, so that fuzzing starts from the shapes the decoders accept.
enum FuzzSeeds {
    static func all() throws -> [String: [[UInt8]]] {
        ["container": try containers(), "api-json": try apiBodies(), "wire": try wireRequests(), "tokens": tokens(), "audit": try auditTexts()]
    }

    /// Version 2 containers of sizes around the chunk boundary, and the published version 1 vectors.
    static func containers() throws -> [[UInt8]] {
        let written = try [0, 1, 100, 65_536, 70_000].map { size in
            try FuzzTargets.container(size: size, key: P256.KeyAgreement.PrivateKey())
        }
        return written + FuzzTargets.versionOneVectors().map(\.container)
    }

    static func apiBodies() throws -> [[UInt8]] {
        let encoder = JSONEncoder()
        let receipt = Receipt(recordID: UUID().uuidString.lowercased(), owner: "alice", clientID: "c", fileName: "a.txt", sha256: String(repeating: "a", count: 64), size: 5, time: 1, encodeKeyID: String(repeating: "b", count: 64), token: "dG9rZW4=")
        return [
            Array(try encoder.encode(RegisterRequest(user: "alice", password: "correct horse", clientID: "c", deviceKey: "AAAA"))),
            Array(try encoder.encode(LoginRequest(user: "alice", password: "correct horse", clientID: "c", deviceKey: "AAAA"))),
            Array(try encoder.encode(SaveRequest(fileName: "report.pdf", sha256: String(repeating: "ab", count: 32), size: 10))),
            Array(try encoder.encode(RetrieveRequest(recordID: receipt.recordID, fileName: "report.pdf", token: "dG9rZW4="))),
            Array(try encoder.encode(AuditProofsRequest(treeSize: 10, fromSize: 2, indexes: [1, 2, 3]))),
            Array(try encoder.encode(receipt)),
            Array(try encoder.encode(CentralUploadRequest(token: "dG9rZW4=", sha256: String(repeating: "cd", count: 32), size: 1_000))),
            Array(try encoder.encode(ShareRequest(grantee: "bob", expires: 1_900_000_000_000))),
            Array(try encoder.encode(GrantsResponse(grants: [GrantInfo(
                recordID: receipt.recordID, owner: "alice", grantee: "bob", fileName: "a.txt", sha256: String(repeating: "a", count: 64), size: 5,
                granted: 1, expires: nil, central: CentralCopyInfo(sha256: String(repeating: "c", count: 64), size: 9, generation: 1, updated: 2)
            )]))),
        ]
    }

    static func wireRequests() throws -> [[UInt8]] {
        var register = Coffer_Wire_V1_RegisterUser()
        register.user = "alice"
        register.passwordHash = "h"
        var create = Coffer_Wire_V1_CreateRecord()
        create.recordID = Data(repeating: 1, count: 16)
        create.owner = "alice"
        create.fileName = "a.txt"
        create.sha256 = Data(repeating: 2, count: 32)
        create.wrappedDecodeKey = Data([1, 2, 3])
        var release = Coffer_Wire_V1_ReleaseKey()
        release.recordID = Data(repeating: 1, count: 16)
        release.owner = "alice"
        var proofs = Coffer_Wire_V1_GetAuditProofs()
        proofs.owner = "alice"
        proofs.treeSize = 2
        var lock = Coffer_Wire_V1_SetUserLock()
        lock.user = "alice"
        lock.locked = true
        lock.reason = "r"
        var users = Coffer_Wire_V1_ListUsers()
        users.limit = 5
        var guarded = WireProtocol.request(.createRecord(create))
        guarded.replayGuard.clientID = "c"
        guarded.replayGuard.nonce = Data(repeating: 9, count: 16)
        var end = Coffer_Wire_V1_EndSessions()
        end.user = "alice"
        end.clientID = "c"
        end.timeUnixMs = 2
        var password = Coffer_Wire_V1_SetPassword()
        password.user = "alice"
        password.passwordHash = "h2"
        password.clientID = "c"
        password.timeUnixMs = 3
        var ended = WireProtocol.request(.endSessions(end))
        ended.replayGuard = guarded.replayGuard
        ended.replayGuard.nonce = Data(repeating: 8, count: 16)
        ended.replayGuard.user = "alice"
        ended.replayGuard.sessionIssuedUnixMs = 1
        // Central copies: an announcement, a chunk, a commit, a download and a read of it.
        var begin = Coffer_Wire_V1_BeginUpload()
        begin.recordID = create.recordID
        begin.owner = "alice"
        begin.sha256 = Data(repeating: 3, count: 32)
        begin.size = 10
        begin.receiptSignature = Data([7])
        let upload = String(repeating: "01", count: 16) + "-" + String(repeating: "03", count: 32)
        var chunk = Coffer_Wire_V1_PutChunk()
        chunk.uploadID = upload
        chunk.owner = "alice"
        chunk.data = Data(repeating: 4, count: 10)
        var commit = Coffer_Wire_V1_CommitUpload()
        commit.uploadID = upload
        commit.owner = "alice"
        var open = Coffer_Wire_V1_OpenDownload()
        open.recordID = create.recordID
        open.owner = "alice"
        var read = Coffer_Wire_V1_ReadChunk()
        read.recordID = create.recordID
        read.owner = "alice"
        read.blobID = String(repeating: "03", count: 32)
        read.length = 10
        // Sharing: a grant, its revocation, and the list.
        var share = Coffer_Wire_V1_ShareRecord()
        share.recordID = create.recordID
        share.owner = "alice"
        share.grantee = "bob"
        share.expiresUnixMs = 5
        var unshare = Coffer_Wire_V1_UnshareRecord()
        unshare.recordID = create.recordID
        unshare.owner = "alice"
        unshare.grantee = "bob"
        var grants = Coffer_Wire_V1_ListGrants()
        grants.user = "bob"
        grants.timeUnixMs = 4
        return try [
            WireProtocol.request(.shareRecord(share)), WireProtocol.request(.unshareRecord(unshare)), WireProtocol.request(.listGrants(grants)),
            WireProtocol.request(.beginUpload(begin)), WireProtocol.request(.putChunk(chunk)), WireProtocol.request(.commitUpload(commit)),
            WireProtocol.request(.openDownload(open)), WireProtocol.request(.readChunk(read)),
            WireProtocol.request(.ping(.init())), WireProtocol.request(.registerUser(register)), guarded,
            WireProtocol.request(.releaseKey(release)), WireProtocol.request(.getAuditProofs(proofs)),
            WireProtocol.request(.setUserLock(lock)), WireProtocol.request(.listUsers(users)), ended,
            WireProtocol.request(.setPassword(password)),
        ].map { try WireProtocol.encode($0) }
    }

    static func tokens() -> [[UInt8]] {
        let tokens = SessionTokens(kek: SymmetricKey(data: Array(repeating: UInt8(1), count: 32)))
        // A key in memory never fails.
        let issued = try! tokens.issue(for: Session(user: "alice", clientID: "c", deviceKey: P256.Signing.PrivateKey().publicKey))
        return [Array(issued.token.utf8), Array(Data(base64Encoded: "MIIBeTCCAR+gAwIBAgIULyVf2oe1npLYwQo8TrZUPRUD8vgwCgYIKoZIzj0EAwIw")!)]
    }

    static func auditTexts() throws -> [[UInt8]] {
        let signer = try NoteSigner(keyName: "coffer/audit", key: Curve25519.Signing.PrivateKey())
        let checkpoint = Checkpoint(origin: "coffer/audit", size: 5, rootHash: Array(repeating: 4, count: 32))
        let note = try signer.sign(checkpoint.text)
        let leaf = try AuditLeaf(index: 1, timeMs: 2, kind: "save", user: "alice", recordID: "00", fileName: "a.txt", detail: "", source: "s", clientID: "c").encoded()
        let proof = [UInt8](repeating: 0, count: 15) + [3] + [UInt8](repeating: 0, count: 7) + [5] + [UInt8](repeating: 7, count: 96)
        return [Array(note.serialized.utf8), Array(checkpoint.text.utf8), leaf, Array(signer.verifier.serialized.utf8), proof]
    }
}
