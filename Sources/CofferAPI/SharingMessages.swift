import Foundation

/// `POST /v1/records/{id}/grants`: lets another registered user retrieve the record (and read and
/// replace its central copy) until `expires`, or until the grant is revoked.
public struct ShareRequest: Codable, Sendable {
    /// The registered user to share with.
    public var grantee: String
    /// Unix ms at which the grant ends; absent: when it is revoked.
    public var expires: Int64?
    public init(grantee: String, expires: Int64? = nil) {
        self.grantee = grantee
        self.expires = expires
    }
}

/// The answer to a share or an unshare: the audit entry that records it.
public struct GrantChangeResponse: Codable, Sendable {
    public var recordID: String
    public var grantee: String
    public var auditIndex: Int64
    public init(recordID: String, grantee: String, auditIndex: Int64) {
        self.recordID = recordID
        self.grantee = grantee
        self.auditIndex = auditIndex
    }
}

/// One live grant: a record its owner shares with a grantee.
public struct GrantInfo: Codable, Sendable, Hashable {
    public var recordID: String
    public var owner: String
    public var grantee: String
    public var fileName: String
    /// The plaintext's SHA-256, lowercase hex.
    public var sha256: String
    public var size: Int64
    /// Unix ms of the grant.
    public var granted: Int64
    /// Unix ms at which it ends; absent: when it is revoked.
    public var expires: Int64?
    /// The record's central copy, if it has one.
    public var central: CentralCopyInfo?
    public init(recordID: String, owner: String, grantee: String, fileName: String, sha256: String, size: Int64,
                granted: Int64, expires: Int64?, central: CentralCopyInfo?) {
        self.recordID = recordID
        self.owner = owner
        self.grantee = grantee
        self.fileName = fileName
        self.sha256 = sha256
        self.size = size
        self.granted = granted
        self.expires = expires
        self.central = central
    }
}

/// `GET /v1/grants`: the live grants the caller made and those made to them.
public struct GrantsResponse: Codable, Sendable {
    public var grants: [GrantInfo]
    public init(grants: [GrantInfo]) { self.grants = grants }
}
