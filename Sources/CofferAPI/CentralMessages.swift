import Foundation

/// A record's central copy: its encrypted container as the database tier keeps it.
public struct CentralCopyInfo: Codable, Sendable, Hashable {
    /// The SHA-256 of the container's bytes, lowercase hex.
    public var sha256: String
    public var size: Int64
    /// 1 for the first upload; one more at each replacement (a re-seal, a push).
    public var generation: Int64
    /// Unix ms of the upload.
    public var updated: Int64
    public init(sha256: String, size: Int64, generation: Int64, updated: Int64) {
        self.sha256 = sha256
        self.size = size
        self.generation = generation
        self.updated = updated
    }
}

/// `POST /v1/records/{id}/central`: announces an upload of the container with these bytes.
public struct CentralUploadRequest: Codable, Sendable {
    /// The base64 time-stamp token of the receipt in the container: the record's current one, or
    /// its staged re-seal's (the upload then confirms the re-seal).
    public var token: String
    /// The SHA-256 of the container's bytes, lowercase hex.
    public var sha256: String
    public var size: Int64
    public init(token: String, sha256: String, size: Int64) {
        self.token = token
        self.sha256 = sha256
        self.size = size
    }
}

/// The answer to an announced upload (`POST /v1/records/{id}/central`) and to its bytes
/// (`PUT /v1/uploads/{upload}`).
public struct CentralUploadResponse: Codable, Sendable {
    public var recordID: String
    /// Where to `PUT` the bytes; absent once done.
    public var uploadID: String?
    /// How many bytes the service holds: send the rest from here.
    public var received: Int64
    /// Whether the central copy now is these bytes.
    public var done: Bool
    /// The central copy, once done.
    public var central: CentralCopyInfo?
    /// The audit entry of the upload or replacement, once done (absent when nothing had to change).
    public var auditIndex: Int64?
    public init(recordID: String, uploadID: String?, received: Int64, done: Bool, central: CentralCopyInfo?, auditIndex: Int64?) {
        self.recordID = recordID
        self.uploadID = uploadID
        self.received = received
        self.done = done
        self.central = central
        self.auditIndex = auditIndex
    }
}

/// The headers of `GET /v1/records/{id}/central`, whose body is the container's bytes.
public enum CentralHeaders {
    /// The SHA-256 the bytes were committed under, lowercase hex: the client checks the bytes against it.
    public static let sha256 = "Coffer-Central-SHA256"
    /// The central copy's generation.
    public static let generation = "Coffer-Central-Generation"
    /// The audit entry of the download.
    public static let auditIndex = "Coffer-Audit-Index"
}
