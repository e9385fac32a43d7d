/// The kinds of audit entry: the vocabulary of docs/AUDIT.md, shared by every writer and reader of
/// the log (the database tier that appends, the transaction tier and operators that ask it to, and
/// the clients and auditors that read it).
public enum AuditKind: String, Sendable, CaseIterable {
    case register
    case login
    case loginFailed = "login_failed"
    case save
    case retrieve
    case retrieveRefused = "retrieve_refused"
    case deviceEnrolled = "device_enrolled"
    case locked
    case reseal
    case keyDestroyed = "key_destroyed"
    case delete
    /// An operator's action, made with `coffer-admin`.
    case admin
    /// Refusals that a rate limit absorbed, counted in one entry instead of one each.
    case rateLimited = "rate_limited"
    /// Sessions ended by their user (`coffer logout`).
    case logout
    /// A user changed their password (`coffer password`); the other devices' sessions ended.
    case passwordChanged = "password_changed"
    /// A transaction process began serving a browser module: the detail names its manifest's SHA-256.
    case webModule = "web_module"
    /// A record's first central copy was uploaded; the detail names its generation, size and SHA-256.
    case centralUpload = "central_upload"
    /// A record's central copy was replaced (after a re-seal, or a push of a newer container).
    case centralReplace = "central_replace"
    /// A record's central copy was downloaded (opened for reading).
    case centralDownload = "central_download"
    /// A record's central copy was destroyed with the record (`coffer delete`).
    case centralDelete = "central_delete"
    /// An upload or download of a central copy was refused: the detail says why.
    case centralRefused = "central_refused"
    /// The owner shared a record with another user: the detail names the grantee and the grant's end.
    case share
    /// The owner revoked a grant: the detail names the grantee.
    case unshare
    /// A share or an unshare was refused: the detail says why.
    case shareRefused = "share_refused"
    /// An operator restored the store from a backup (`coffer-admin restore`): the detail, a
    /// ``RestoreDetail``, names the backup and how many entries were lost with the newer log.
    case restore
    /// Decode keys were moved to a new KEK in a batch of a KEK rotation: the detail names how many and the KEK.
    case keyRewrap = "key_rewrap"
}
