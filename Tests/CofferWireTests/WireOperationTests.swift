import CofferWire
import Testing

@Suite struct WireOperationTests {
    @Test("every changing request is classified, and the audited ones include the logout and the password change")
    func classification() {
        let changing: [WireRequest.OneOf_Body] = [
            .registerUser(.init()), .recordLogin(.init()), .createRecord(.init()), .releaseKey(.init()), .stageReseal(.init()),
            .confirmReseal(.init()), .deleteRecord(.init()), .storeCheckpoint(.init()), .appendAudit(.init()), .setUserLock(.init()),
            .endSessions(.init()), .setPassword(.init()),
        ]
        #expect(changing.allSatisfy { WireOperation.of($0).changesState })
        let reads: [WireRequest.OneOf_Body] = [
            .ping(.init()), .getCredentials(.init()), .listHistory(.init()), .listRecords(.init()), .getAuditProofs(.init()),
            .listAuditEntries(.init()), .listCheckpoints(.init()), .listUsers(.init()),
        ]
        #expect(reads.allSatisfy { !WireOperation.of($0).changesState && !WireOperation.of($0).audits })
        #expect(WireOperation.of(.endSessions(.init())).audits && WireOperation.of(.setPassword(.init())).audits)
        #expect(!WireOperation.of(.stageReseal(.init())).audits && !WireOperation.of(.storeCheckpoint(.init())).audits)
    }
}
