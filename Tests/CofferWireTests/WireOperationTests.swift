import CofferWire
import Testing

@Suite struct WireOperationTests {
    @Test("every changing request is classified, and the audited ones include the logout and the password change")
    func classification() {
        let changing: [WireRequest.OneOf_Body] = [
            .registerUser(.init()), .recordLogin(.init()), .createRecord(.init()), .releaseKey(.init()), .stageReseal(.init()),
            .confirmReseal(.init()), .deleteRecord(.init()), .storeCheckpoint(.init()), .appendAudit(.init()), .setUserLock(.init()),
            .endSessions(.init()), .setPassword(.init()), .beginUpload(.init()), .commitUpload(.init()), .openDownload(.init()),
        ]
        #expect(changing.allSatisfy { WireOperation.of($0).changesState && WireOperation.of($0).storesReply })
        let reads: [WireRequest.OneOf_Body] = [
            .ping(.init()), .getCredentials(.init()), .listHistory(.init()), .listRecords(.init()), .getAuditProofs(.init()),
            .listAuditEntries(.init()), .listCheckpoints(.init()), .listUsers(.init()), .readChunk(.init()),
        ]
        #expect(reads.allSatisfy { !WireOperation.of($0).changesState && !WireOperation.of($0).audits })
        #expect(WireOperation.of(.endSessions(.init())).audits && WireOperation.of(.setPassword(.init())).audits)
        #expect(!WireOperation.of(.stageReseal(.init())).audits && !WireOperation.of(.storeCheckpoint(.init())).audits)
        // A chunk at its offset is the same however often it is written: no stored reply.
        let chunk = WireOperation.of(.putChunk(.init()))
        #expect(chunk.changesState && !chunk.storesReply && !chunk.audits)
        #expect(WireOperation.of(.beginUpload(.init())).audits && WireOperation.of(.commitUpload(.init())).audits
                && WireOperation.of(.openDownload(.init())).audits)
    }
}
