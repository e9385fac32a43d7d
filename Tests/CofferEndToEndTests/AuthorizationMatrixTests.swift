import CofferAPI
import CofferClient
import CofferTesting
import CofferTransaction
import Crypto
import Foundation
import Testing

/// Every authenticated endpoint, tried with no session, an expired session, another user's
/// session, another device's signature, a replayed request and a tampered body: each is refused
/// with the right status, and no error tells anything of another user's files.
@Suite(.serialized) struct AuthorizationMatrixTests {
    @Test("every authenticated endpoint refuses a missing, expired, foreign, mis-signed, replayed or tampered request, and leaks nothing")
    func matrix() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        try await deployment.registerAndLogin("alice")
        try await deployment.registerAndLogin("bob")
        let work = deployment.directory + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let secretName = "alice-secret-plan.txt"
        try Data("the plan".utf8).write(to: URL(fileURLWithPath: work + "/" + secretName))
        try Data("to be deleted".utf8).write(to: URL(fileURLWithPath: work + "/" + "alice-old.txt"))
        #expect(try await deployment.coffer(["save", work + "/" + secretName], user: "alice").status == 0)
        #expect(try await deployment.coffer(["save", work + "/alice-old.txt"], user: "alice").status == 0)
        let alice = try identity(deployment, "alice")
        let bob = try identity(deployment, "bob")
        let receipt = try ReceiptCheck.read(container: work + "/" + secretName + ".coffer").1
        let old = try ReceiptCheck.read(container: work + "/alice-old.txt.coffer").1

        // An expired session of Alice's, minted with the deployment's KEK, and a stranger's device key.
        let kekText = try String(contentsOfFile: deployment.directory + "/keys/transaction/kek.b64", encoding: .utf8)
        let kek = SymmetricKey(data: try #require(Data(base64Encoded: kekText.trimmingCharacters(in: .whitespacesAndNewlines))))
        let expired = try SessionTokens(kek: kek).issue(
            for: Session(user: "alice", clientID: alice.clientID, deviceKey: alice.key.publicKey), now: Date().addingTimeInterval(-3600)
        ).token

        let save = Call(method: "POST", path: "/v1/save", body: try json(SaveRequest(fileName: "new.txt", sha256: String(repeating: "ab", count: 32), size: 3)))
        let retrieve = Call(method: "POST", path: "/v1/retrieve", body: try json(RetrieveRequest(recordID: receipt.recordID, fileName: receipt.fileName, token: receipt.token)))
        let delete = Call(method: "POST", path: "/v1/delete", body: try json(RecordRequest(recordID: old.recordID, token: old.token)))
        let records = Call(method: "GET", path: "/v1/records", body: [])
        let history = Call(method: "GET", path: "/v1/history", body: [])
        let recordHistory = Call(method: "GET", path: "/v1/records/\(receipt.recordID)/history", body: [])
        let checkpoint = Call(method: "POST", path: "/v1/audit/checkpoint", body: Array("{}".utf8))
        let proofs = Call(method: "POST", path: "/v1/audit/proofs", body: try json(AuditProofsRequest(treeSize: 1, fromSize: nil, indexes: [0])))
        // The re-seal needs a staged generation: retrieve first (also the replay case below).
        let logout = Call(method: "POST", path: "/v1/logout", body: try json(LogoutRequest(everywhere: true)))
        let password = Call(method: "POST", path: "/v1/password",
                            body: try json(PasswordChangeRequest(password: "correct horse battery staple", newPassword: "an attacker's choice 1")))
        // Central copies: announcing an upload, its streamed bytes (whose signature covers the query
        // and an empty body: the bytes are bound by the announced SHA-256), and a download.
        let centralSHA = String(repeating: "cd", count: 32)
        let announce = Call(method: "POST", path: "/v1/records/\(receipt.recordID)/central",
                            body: try json(CentralUploadRequest(token: receipt.token, sha256: centralSHA, size: 10)))
        let uploadID = receipt.recordID.replacingOccurrences(of: "-", with: "") + "-" + centralSHA
        let bytes = Call(method: "PUT", path: "/v1/uploads/\(uploadID)?offset=0", body: [], streamed: true)
        let download = Call(method: "GET", path: "/v1/records/\(receipt.recordID)/central", body: [])
        // Sharing: a grant, its revocation, and the list of grants.
        let share = Call(method: "POST", path: "/v1/records/\(receipt.recordID)/grants", body: try json(ShareRequest(grantee: "bob")))
        let unshare = Call(method: "DELETE", path: "/v1/records/\(receipt.recordID)/grants/bob", body: [])
        let grants = Call(method: "GET", path: "/v1/grants", body: [])
        let calls = [save, retrieve, records, history, recordHistory, checkpoint, proofs, delete, logout, password, announce, bytes, download,
                     share, unshare, grants]

        // Nothing of Alice's may appear in an answer that is not Alice's. (Record ids are what a
        // caller sends; an answer may repeat them, and says the same whether the record exists.)
        let aliceOnly = [secretName, receipt.token, old.token, alice.token]
        func expectNoLeak(_ reply: Reply, _ what: String) {
            for value in aliceOnly where reply.body.contains(value) {
                Issue.record("\(what): the answer tells \(value.prefix(24))…: \(reply.body.prefix(200))")
            }
        }
        func expectRefused(_ reply: Reply, _ status: Int, _ what: String) {
            #expect(reply.status == status, "\(what): HTTP \(reply.status) \(reply.body.prefix(200))")
            #expect(reply.body.contains(#""error""#), "\(what): not an error answer: \(reply.body.prefix(200))")
            expectNoLeak(reply, what)
        }

        for call in calls {
            let name = "\(call.method) \(call.path)"
            expectRefused(try await send(deployment, call, headers: []), 401, "\(name) with no session")
            expectRefused(try await send(deployment, call, headers: try signed(call, token: alice.token, signer: nil)), 401, "\(name) unsigned")
            expectRefused(try await send(deployment, call, headers: try signed(call, token: expired, signer: alice.key)), 401, "\(name) with an expired session")
            expectRefused(try await send(deployment, call, headers: try signed(call, token: alice.token, signer: bob.key)), 401, "\(name) signed by another device")
            guard !call.streamed else { continue }
            let tampered = call.body.isEmpty ? Array(" ".utf8) : call.body.map { $0 == UInt8(ascii: "1") ? UInt8(ascii: "2") : $0 } + Array(" ".utf8)
            expectRefused(try await send(deployment, call, headers: try signed(call, token: alice.token, signer: alice.key), body: tampered), 401, "\(name) with a tampered body")
        }

        // Bob's own session on Alice's records, guessing the name: not found, and nothing of hers in
        // the answer, nor later in his own history.
        let bobsGuess = Call(method: "POST", path: "/v1/retrieve", body: try json(RetrieveRequest(recordID: receipt.recordID, fileName: "bobs-guess.txt", token: receipt.token)))
        for call in [bobsGuess, recordHistory, Call(method: "POST", path: "/v1/delete", body: try json(RecordRequest(recordID: old.recordID, token: "AAAA"))),
                     Call(method: "POST", path: "/v1/reseal", body: try json(RecordRequest(recordID: receipt.recordID, token: "AAAA"))),
                     announce, bytes, download, share, unshare] {
            let reply = try await send(deployment, call, headers: try signed(call, token: bob.token, signer: bob.key))
            #expect([403, 404].contains(reply.status), "\(call.path) with another user's session: HTTP \(reply.status) \(reply.body.prefix(200))")
            expectNoLeak(reply, "\(call.path) with another user's session")
        }
        // Alice's record and a record that does not exist answer Bob alike: no oracle for record ids.
        let missingID = UUID().uuidString.lowercased()
        let missing = Call(method: "POST", path: "/v1/retrieve", body: try json(RetrieveRequest(
            recordID: missingID, fileName: "bobs-guess.txt", token: receipt.token)))
        let forHers = try await send(deployment, bobsGuess, headers: try signed(bobsGuess, token: bob.token, signer: bob.key))
        let forNone = try await send(deployment, missing, headers: try signed(missing, token: bob.token, signer: bob.key))
        // The answers echo the id that was asked for, and nothing else differs.
        #expect(forHers.status == 404 && forHers.status == forNone.status
                    && forHers.body.replacingOccurrences(of: receipt.recordID, with: "ID") == forNone.body.replacingOccurrences(of: missingID, with: "ID"),
                "another user's record: \(forHers.status) \(forHers.body); a missing one: \(forNone.status) \(forNone.body)")
        for call in [records, history, checkpoint, grants] {
            let reply = try await send(deployment, call, headers: try signed(call, token: bob.token, signer: bob.key))
            #expect(reply.status == 200, "\(call.path) as Bob: HTTP \(reply.status)")
            expectNoLeak(reply, "\(call.path) as Bob")
        }
        let bobProofs = try await send(deployment, proofs, headers: try signed(proofs, token: bob.token, signer: bob.key))
        expectNoLeak(bobProofs, "audit proofs of Alice's entry asked by Bob")

        // A replayed request: the same bytes and headers again are refused once the first was answered.
        let retrieveHeaders = try signed(retrieve, token: alice.token, signer: alice.key)
        let retrieved = try await send(deployment, retrieve, headers: retrieveHeaders)
        #expect(retrieved.status == 200, "\(retrieved.body.prefix(200))")
        expectRefused(try await send(deployment, retrieve, headers: retrieveHeaders), 409, "POST /v1/retrieve replayed")
        let offer = try JSONDecoder().decode(RetrieveResponse.self, from: Data(retrieved.body.utf8)).reseal
        let reseal = Call(method: "POST", path: "/v1/reseal", body: try json(RecordRequest(recordID: receipt.recordID, token: try #require(offer).receipt.token)))
        let announceResealed = Call(method: "POST", path: announce.path,
                                    body: try json(CentralUploadRequest(token: try #require(offer).receipt.token, sha256: centralSHA, size: 10)))
        for call in [save, records, history, recordHistory, checkpoint, proofs, reseal, announceResealed, share, grants, unshare, delete] {
            let headers = try signed(call, token: alice.token, signer: alice.key)
            let first = try await send(deployment, call, headers: headers)
            #expect((200..<300).contains(first.status), "\(call.method) \(call.path) once: HTTP \(first.status) \(first.body.prefix(200))")
            expectRefused(try await send(deployment, call, headers: headers), 409, "\(call.method) \(call.path) replayed")
        }
    }

    @Test("a user reaches another's record only under a live grant: before it, for a third user, after its revocation and after its end each call is refused, audited, and tells nothing more")
    func grantMatrix() async throws {
        let deployment = try await LocalDeployment.start()
        defer { deployment.terminate() }
        for user in ["alice", "bob", "carol"] { try await deployment.registerAndLogin(user) }
        let work = deployment.directory + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try Data("the shared plan".utf8).write(to: URL(fileURLWithPath: work + "/plan.txt"))
        #expect(try await deployment.coffer(["save", "--central", work + "/plan.txt"], user: "alice").status == 0)
        let receipt = try ReceiptCheck.read(container: work + "/plan.txt.coffer").1
        let bob = try identity(deployment, "bob")
        let carol = try identity(deployment, "carol")
        let calls = [
            Call(method: "POST", path: "/v1/retrieve", body: try json(RetrieveRequest(recordID: receipt.recordID, fileName: receipt.fileName, token: receipt.token))),
            Call(method: "GET", path: "/v1/records/\(receipt.recordID)/central", body: []),
            Call(method: "POST", path: "/v1/records/\(receipt.recordID)/central",
                 body: try json(CentralUploadRequest(token: receipt.token, sha256: String(repeating: "ef", count: 32), size: 10))),
        ]
        func statuses(_ who: Identity) async throws -> [Int] {
            var answered: [Int] = []
            for call in calls {
                let reply = try await send(deployment, call, headers: try signed(call, token: who.token, signer: who.key))
                #expect(!reply.body.contains(receipt.token) || reply.status == 200, "\(call.path): \(reply.body.prefix(200))")
                answered.append(reply.status)
            }
            return answered
        }
        #expect(try await statuses(bob) == [404, 404, 404], "before the grant")
        #expect(try await deployment.coffer(["share", "plan.txt", "--with", "bob"], user: "alice").status == 0)
        #expect(try await statuses(bob) == [200, 200, 200], "under the grant")
        #expect(try await statuses(carol) == [404, 404, 404], "a grant is its grantee's only")
        #expect(try await deployment.coffer(["unshare", "plan.txt", "--with", "bob"], user: "alice").status == 0)
        #expect(try await statuses(bob) == [403, 403, 403], "after the revocation, in the same session")
        #expect(try await deployment.coffer(["share", "plan.txt", "--with", "bob", "--until", "2s"], user: "alice").status == 0)
        try await Task.sleep(for: .seconds(2.5))
        #expect(try await statuses(bob) == [403, 403, 403], "after the grant's end")
        let grants = Call(method: "GET", path: "/v1/grants", body: [])
        let listed = try await send(deployment, grants, headers: try signed(grants, token: bob.token, signer: bob.key))
        #expect(listed.status == 200 && listed.body.contains(#""grants":[]"#), "\(listed.body)")

        // Every refusal is in the grantee's history, and in the owner's.
        let history = try await deployment.coffer(["history", "--json"], user: "alice")
        let refused = history.stdout.components(separatedBy: "\"retrieve_refused\"").count - 1
        #expect(refused >= 4, "bob's refused retrieves (and carol's) are in alice's history: \(history.stdout.prefix(400))")
    }
}
