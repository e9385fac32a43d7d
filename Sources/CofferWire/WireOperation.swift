/// What each request of the tier protocol does, as both tiers must agree on it.
///
/// The switch over the request bodies is exhaustive: a new request kind does not compile until it
/// says whether it changes state (the database tier then runs it once per request id and stores
/// its reply) and whether it writes audit entries (the transaction tier then counts its failure
/// as the audit log failing).
public struct WireOperation: Sendable, Hashable {
    /// The request's name in docs/PROTOCOL.md.
    public let name: String
    /// Whether it changes anything: run at most once per request id, its reply stored for retries.
    public let changesState: Bool
    /// Whether it appends to the audit log (always, or when it refuses).
    public let audits: Bool
    /// Whether a retry must get the first run's stored reply: every change, but one whose effect is
    /// the same however often it runs (a chunk written at its offset), which is simply run again.
    public let storesReply: Bool

    private init(_ name: String, changes: Bool, audits: Bool, storesReply: Bool? = nil) {
        self.name = name
        self.changesState = changes
        self.audits = audits
        self.storesReply = storesReply ?? changes
    }

    /// A change that leaves the same state however often it runs: no reply is stored for it.
    private static func idempotent(_ name: String) -> WireOperation { WireOperation(name, changes: true, audits: false, storesReply: false) }

    private static func read(_ name: String) -> WireOperation { WireOperation(name, changes: false, audits: false) }
    private static func change(_ name: String, audits: Bool = true) -> WireOperation { WireOperation(name, changes: true, audits: audits) }

    /// The operation of a request body.
    public static func of(_ body: WireRequest.OneOf_Body) -> WireOperation {
        switch body {
        case .ping: read("Ping")
        case .registerUser: change("RegisterUser")
        case .getCredentials: read("GetCredentials")
        case .recordLogin: change("RecordLogin")
        case .createRecord: change("CreateRecord")
        case .releaseKey: change("ReleaseKey")
        case .listHistory: read("ListHistory")
        case .stageReseal: change("StageReseal", audits: false)
        case .confirmReseal: change("ConfirmReseal")
        case .deleteRecord: change("DeleteRecord")
        case .listRecords: read("ListRecords")
        case .getAuditProofs: read("GetAuditProofs")
        case .storeCheckpoint: change("StoreCheckpoint", audits: false)
        case .listAuditEntries: read("ListAuditEntries")
        case .listCheckpoints: read("ListCheckpoints")
        case .appendAudit: change("AppendAudit")
        case .setUserLock: change("SetUserLock")
        case .listUsers: read("ListUsers")
        case .endSessions: change("EndSessions")
        case .setPassword: change("SetPassword")
        case .beginUpload: change("BeginUpload")
        case .putChunk: idempotent("PutChunk")
        case .commitUpload: change("CommitUpload")
        case .openDownload: change("OpenDownload")
        case .readChunk: read("ReadChunk")
        case .shareRecord: change("ShareRecord")
        case .unshareRecord: change("UnshareRecord")
        case .listGrants: read("ListGrants")
        case .listRewrapCandidates: read("ListRewrapCandidates")
        case .rewrapKeys: change("RewrapKeys")
        case .countWrappedKeys: read("CountWrappedKeys")
        }
    }
}
