import CofferWire

/// The operation that answers each request body: the one place a request kind is routed.
enum OperationDispatch {
    static func operation(for body: WireRequest.OneOf_Body) -> BoundOperation {
        switch body {
        case .ping(let m): Ping.bind(m, body)
        case .registerUser(let m): RegisterUser.bind(m, body)
        case .getCredentials(let m): GetCredentials.bind(m, body)
        case .recordLogin(let m): RecordLogin.bind(m, body)
        case .setPassword(let m): SetPassword.bind(m, body)
        case .endSessions(let m): EndSessions.bind(m, body)
        case .createRecord(let m): CreateRecord.bind(m, body)
        case .releaseKey(let m): ReleaseKey.bind(m, body)
        case .stageReseal(let m): StageReseal.bind(m, body)
        case .confirmReseal(let m): ConfirmReseal.bind(m, body)
        case .deleteRecord(let m): DeleteRecord.bind(m, body)
        case .listRecords(let m): ListRecords.bind(m, body)
        case .listHistory(let m): ListHistory.bind(m, body)
        case .getAuditProofs(let m): GetAuditProofs.bind(m, body)
        case .storeCheckpoint(let m): StoreCheckpoint.bind(m, body)
        case .listAuditEntries(let m): ListAuditEntries.bind(m, body)
        case .listCheckpoints(let m): ListCheckpoints.bind(m, body)
        case .appendAudit(let m): AppendAudit.bind(m, body)
        case .setUserLock(let m): SetUserLock.bind(m, body)
        case .listUsers(let m): ListUsers.bind(m, body)
        case .beginUpload(let m): BeginUpload.bind(m, body)
        case .putChunk(let m): PutChunk.bind(m, body)
        case .commitUpload(let m): CommitUpload.bind(m, body)
        case .openDownload(let m): OpenDownload.bind(m, body)
        case .readChunk(let m): ReadChunk.bind(m, body)
        case .shareRecord(let m): ShareRecord.bind(m, body)
        case .unshareRecord(let m): UnshareRecord.bind(m, body)
        case .listGrants(let m): ListGrants.bind(m, body)
        case .listRewrapCandidates(let m): ListRewrapCandidates.bind(m, body)
        case .rewrapKeys(let m): RewrapKeys.bind(m, body)
        case .countWrappedKeys(let m): CountWrappedKeys.bind(m, body)
        }
    }
}
