/// Why the store refused a request on a record or an account: typed, so that callers decide on the
/// case, and with the sentence the requester's history and answer carry.
public enum Refusal: Sendable, Hashable {
    /// An operator locked the account.
    case accountLocked
    /// The presented file name is not the record's.
    case fileNameMismatch
    /// The presented receipt is neither the record's current one nor its staged re-seal's.
    case receiptMismatch
    /// The record was deleted: its decode keys are destroyed.
    case keyDestroyed
    /// The receipt is an older copy's, re-sealed since.
    case oldCopy
    /// No re-seal with this receipt waits for confirmation.
    case noResealWaiting
    /// The receipt is not the record's current one (for a delete).
    case notCurrentReceipt
    /// The upload would take the owner's central copies past their quota; says which and by how much.
    case quotaExceeded(String)
    /// A commit came before every announced byte was staged.
    case uploadIncomplete(received: Int64, size: Int64)
    /// The staged bytes do not have the SHA-256 the upload announced; they were dropped.
    case uploadDigestMismatch
    /// The record has no central copy.
    case noCentralCopy
    /// The central copy was replaced after the download was opened.
    case centralCopyReplaced
    /// A share names a user who is not registered.
    case unknownGrantee
    /// A share names the record's owner.
    case shareWithSelf
    /// A share would end before it begins.
    case grantEndsInPast
    /// The requester's grant of the record ended; says how.
    case grantEnded(String)

    /// The sentence for the requester.
    public var reason: String {
        switch self {
        case .accountLocked: "the account is locked by an operator"
        case .fileNameMismatch: "the file name does not match the record"
        case .receiptMismatch: "the receipt does not match the record"
        case .keyDestroyed: "the decode key was destroyed (the record was deleted)"
        case .oldCopy: "this is an old copy of a container that was re-sealed later; its decode key was destroyed, so use the newest copy"
        case .noResealWaiting: "no re-seal with this receipt is waiting for confirmation"
        case .notCurrentReceipt: "the receipt is not this record's current one"
        case .quotaExceeded(let detail): "the upload would exceed the account's central-copy quota: \(detail)"
        case .uploadIncomplete(let received, let size): "the upload is incomplete: \(received) of \(size) bytes were received; send the rest"
        case .uploadDigestMismatch: "the uploaded bytes do not have the SHA-256 the upload announced; nothing was kept"
        case .noCentralCopy: "the record has no central copy"
        case .centralCopyReplaced: "the central copy was replaced while it was being downloaded; download it again"
        case .unknownGrantee: "no registered user has that name"
        case .shareWithSelf: "a record cannot be shared with its owner"
        case .grantEndsInPast: "the grant would end before it begins"
        case .grantEnded(let how): "the grant that shared this record with you ended: \(how)"
        }
    }
}
