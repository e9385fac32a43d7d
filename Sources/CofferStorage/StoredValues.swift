import Foundation

/// One row of the audit history.
public struct AuditEntry: Sendable, Hashable {
    public var index: Int64
    public var timeMs: Int64
    public var kind: String
    public var user: String
    public var recordID: [UInt8]?
    public var fileName: String?
    public var detail: String
    public var source: String
    public var clientID: String
    /// The exact leaf bytes hashed into the Merkle log.
    public var leaf: [UInt8]
}

/// A client installation's identity: its id and P-256 public key.
public struct DeviceIdentity: Sendable, Hashable {
    public var clientID: String
    public var publicKey: [UInt8]
    public init(clientID: String, publicKey: [UInt8]) {
        self.clientID = clientID
        self.publicKey = publicKey
    }
}

/// A saved file's record as stored: receipt and wrapped decode key, never plaintext keys.
public struct StoredRecord: Sendable, Hashable {
    public var id: [UInt8]
    public var owner: String
    public var fileName: String
    public var sha256: [UInt8]
    public var size: Int64
    public var createdAtMs: Int64
    public var encodeKeyID: [UInt8]
    public var wrappedDecodeKey: [UInt8]
    public var receipt: [UInt8]
    public var receiptSignature: [UInt8]
    /// The client's own id for the save that made the record, if it sent one (16 bytes).
    public var clientRequestID: [UInt8]?
    /// The encode key, kept with a client request id (X9.63).
    public var encodeKey: [UInt8]?

    public init(
        id: [UInt8], owner: String, fileName: String, sha256: [UInt8], size: Int64, createdAtMs: Int64,
        encodeKeyID: [UInt8], wrappedDecodeKey: [UInt8], receipt: [UInt8], receiptSignature: [UInt8],
        clientRequestID: [UInt8]? = nil, encodeKey: [UInt8]? = nil
    ) {
        self.clientRequestID = clientRequestID
        self.encodeKey = encodeKey
        self.id = id
        self.owner = owner
        self.fileName = fileName
        self.sha256 = sha256
        self.size = size
        self.createdAtMs = createdAtMs
        self.encodeKeyID = encodeKeyID
        self.wrappedDecodeKey = wrappedDecodeKey
        self.receipt = receipt
        self.receiptSignature = receiptSignature
    }
}

/// What a released key belongs to.
public struct ReleasedKey: Sendable, Hashable {
    public var wrappedDecodeKey: [UInt8]
    public var encodeKeyID: [UInt8]
    public var sha256: [UInt8]
    public var size: Int64
    public var auditIndex: Int64
    /// Whether the request's next key generation was staged with the release.
    public var nextStaged = false
    /// Whether the record has a central copy.
    public var hasCentral = false
    /// The record's owner: the requester, or who shared it with them. The decode key is wrapped for them.
    public var owner = ""
}

/// The outcome of a key release request.
public enum KeyRelease: Sendable, Hashable {
    /// The checks passed; the retrieval is audited.
    case released(ReleasedKey)
    /// No record the requester may retrieve has this id (another owner's unshared record and a
    /// missing one alike); the attempt is audited with ``RecordStore/noSuchRecordReason``.
    case notFound
    /// The record exists but the request does not match it; the attempt is audited.
    case refused(Refusal)
}
