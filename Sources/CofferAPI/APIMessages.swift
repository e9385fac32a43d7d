import Foundation

// The JSON bodies of the transaction tier's HTTPS API (`docs/api/openapi.yaml`).
// Binary values travel as standard base64; digests as lowercase hex.

/// `POST /v1/register` request.
public struct RegisterRequest: Codable, Sendable {
    public var user: String
    public var password: String
    /// The client installation's id (UUID text).
    public var clientID: String
    /// The installation's P-256 public key, base64 X9.63; later requests are signed with its private half.
    public var deviceKey: String
    public init(user: String, password: String, clientID: String, deviceKey: String) {
        self.user = user
        self.password = password
        self.clientID = clientID
        self.deviceKey = deviceKey
    }
}

/// `POST /v1/identity` request: a fresh random challenge for the server to sign.
public struct IdentityRequest: Codable, Sendable {
    /// Base64 of 32 random bytes.
    public var challenge: String
    public init(challenge: String) { self.challenge = challenge }
}

/// `POST /v1/identity` answer: the server's identity key and its signature over the challenge.
public struct IdentityResponse: Codable, Sendable {
    /// Base64 DER SubjectPublicKeyInfo of the server's P-256 identity key.
    public var serverKey: String
    /// Base64 DER ECDSA signature over ``ServerIdentity/challengeMessage(_:)``.
    public var signature: String
    /// The identity rotations that lead from earlier identity keys to ``serverKey``, oldest first;
    /// absent when the key was never rotated.
    public var rotations: [IdentityRotation]?
    public init(serverKey: String, signature: String, rotations: [IdentityRotation]? = nil) {
        self.serverKey = serverKey
        self.signature = signature
        self.rotations = rotations
    }
}

/// `POST /v1/register` answer.
public struct RegisterResponse: Codable, Sendable {
    public var user: String
    public init(user: String) { self.user = user }
}

/// `POST /v1/login` request.
public struct LoginRequest: Codable, Sendable {
    public var user: String
    public var password: String
    /// The client installation's id (UUID text).
    public var clientID: String
    /// The installation's P-256 public key, base64 X9.63; later requests are signed with its private half.
    public var deviceKey: String
    public init(user: String, password: String, clientID: String, deviceKey: String) {
        self.user = user
        self.password = password
        self.clientID = clientID
        self.deviceKey = deviceKey
    }
}

/// `POST /v1/login` answer: a bearer token for later requests.
public struct LoginResponse: Codable, Sendable {
    public var token: String
    /// Unix time in seconds after which the token is refused.
    public var expiresAt: Int64
    public init(token: String, expiresAt: Int64) {
        self.token = token
        self.expiresAt = expiresAt
    }
}

/// `POST /v1/logout` request: ends the session it is signed under, and every other session of this
/// device; with `everywhere`, the sessions of all the user's devices.
public struct LogoutRequest: Codable, Sendable {
    public var everywhere: Bool
    public init(everywhere: Bool) { self.everywhere = everywhere }
}

/// `POST /v1/logout` answer.
public struct LogoutResponse: Codable, Sendable {
    /// `device` or `everywhere`: whose sessions ended.
    public var ended: String
    public init(ended: String) { self.ended = ended }
}

/// `POST /v1/password` request: the current password, and the new one.
public struct PasswordChangeRequest: Codable, Sendable {
    public var password: String
    public var newPassword: String
    public init(password: String, newPassword: String) {
        self.password = password
        self.newPassword = newPassword
    }
}

/// `POST /v1/password` answer.
public struct PasswordChangeResponse: Codable, Sendable {
    public var user: String
    public init(user: String) { self.user = user }
}

/// `POST /v1/save` request: what the client tells the server about the file it is about to seal.
public struct SaveRequest: Codable, Sendable {
    public var fileName: String
    /// Lowercase hex SHA-256 of the plaintext.
    public var sha256: String
    public var size: Int64
    /// The client's id for this save (UUID text): the same save sent again, after its answer was
    /// lost, gets the record the first one made instead of a second record.
    public var requestID: String?
    public init(fileName: String, sha256: String, size: Int64, requestID: String? = nil) {
        self.fileName = fileName
        self.sha256 = sha256
        self.size = size
        self.requestID = requestID
    }

    private enum CodingKeys: String, CodingKey { case fileName, sha256, size, requestID }

    /// `requestID` may be absent but not `null`, as docs/api/openapi.yaml says.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        fileName = try container.decode(String.self, forKey: .fileName)
        sha256 = try container.decode(String.self, forKey: .sha256)
        size = try container.decode(Int64.self, forKey: .size)
        requestID = container.contains(.requestID) ? try container.decode(String.self, forKey: .requestID) : nil
    }
}

/// `POST /v1/save` answer: the encode key and the signed receipt.
public struct SaveResponse: Codable, Sendable {
    /// Record id, lowercase UUID text.
    public var recordID: String
    /// Base64 X9.63 P-256 public key to seal the file key to.
    public var encodeKey: String
    public var receipt: Receipt
    /// The index of the save's entry in the audit log.
    public var auditIndex: Int64?
    public init(recordID: String, encodeKey: String, receipt: Receipt, auditIndex: Int64? = nil) {
        self.recordID = recordID
        self.encodeKey = encodeKey
        self.receipt = receipt
        self.auditIndex = auditIndex
    }
}

/// `POST /v1/retrieve` request.
public struct RetrieveRequest: Codable, Sendable {
    public var recordID: String
    public var fileName: String
    /// The receipt's base64 time-stamp token, as carried in the container.
    public var token: String
    /// The SHA-256 (64 lowercase hex digits) the container's receipt states, sent with ``size`` so that the
    /// key service can stage the re-seal's key generation with the release: one round trip less.
    /// Optional, and never trusted: it is used only when it is the record's own.
    public var sha256: String?
    /// The plaintext size in bytes the container's receipt states; sent with ``sha256``.
    public var size: Int64?
    /// The owner the container's receipt names, when it is not the caller (a record shared with
    /// them): the key service then makes the re-seal's key generation for that owner after the
    /// release. Optional, and never trusted: the database tier says whose the record is.
    public var owner: String?
    public init(recordID: String, fileName: String, token: String, sha256: String? = nil, size: Int64? = nil, owner: String? = nil) {
        self.recordID = recordID
        self.fileName = fileName
        self.token = token
        self.sha256 = sha256
        self.size = size
        self.owner = owner
    }
}

/// `POST /v1/retrieve` answer: the decode key, released after the retrieval was audited, and the
/// next key generation to re-seal the container under.
public struct RetrieveResponse: Codable, Sendable {
    /// Base64 raw 32-byte P-256 private key.
    public var decodeKey: String
    /// Base64 X9.63 public half of ``decodeKey`` (the record's encode key): a browser cannot import
    /// the scalar without it. A client checks its SHA-256 against the container's encode key id.
    public var decodePublicKey: String?
    /// The fresh encode key and receipt for the re-seal; absent when the service could not stage one.
    public var reseal: ResealOffer?
    /// The index of the retrieval's entry in the audit log.
    public var auditIndex: Int64?
    /// Whether the record has a central copy: the re-sealed container is then uploaded to replace
    /// it (which confirms the re-seal) instead of confirming with `/v1/reseal`.
    public var central: Bool?
    public init(decodeKey: String, decodePublicKey: String? = nil, reseal: ResealOffer?, auditIndex: Int64? = nil, central: Bool? = nil) {
        self.central = central
        self.decodeKey = decodeKey
        self.decodePublicKey = decodePublicKey
        self.reseal = reseal
        self.auditIndex = auditIndex
    }
}

/// A fresh key pair's encode key and receipt for re-sealing a container after a retrieve.
public struct ResealOffer: Codable, Sendable {
    /// Base64 X9.63 P-256 public key.
    public var encodeKey: String
    public var receipt: Receipt
    public init(encodeKey: String, receipt: Receipt) {
        self.encodeKey = encodeKey
        self.receipt = receipt
    }
}

/// `POST /v1/reseal` and `POST /v1/delete` request: the record and the receipt the client holds.
public struct RecordRequest: Codable, Sendable {
    public var recordID: String
    /// The base64 time-stamp token of the receipt in the client's container.
    public var token: String
    public init(recordID: String, token: String) {
        self.recordID = recordID
        self.token = token
    }
}

/// `POST /v1/reseal` and `POST /v1/delete` answer.
public struct RecordChangeResponse: Codable, Sendable {
    public var recordID: String
    /// `resealed` or `deleted`.
    public var status: String
    public init(recordID: String, status: String) {
        self.recordID = recordID
        self.status = status
    }
}

/// One of the caller's records.
public struct RecordInfo: Codable, Sendable, Hashable {
    public var recordID: String
    public var fileName: String
    public var sha256: String
    public var size: Int64
    /// Unix ms of the save.
    public var created: Int64
    /// Unix ms of the last re-seal; absent if never re-sealed.
    public var resealed: Int64?
    /// Whether the decode key was destroyed.
    public var deleted: Bool
    /// Its central copy, when the service keeps one.
    public var central: CentralCopyInfo?
    public init(recordID: String, fileName: String, sha256: String, size: Int64, created: Int64, resealed: Int64?, deleted: Bool,
                central: CentralCopyInfo? = nil) {
        self.central = central
        self.recordID = recordID
        self.fileName = fileName
        self.sha256 = sha256
        self.size = size
        self.created = created
        self.resealed = resealed
        self.deleted = deleted
    }
}

/// `GET /v1/records` answer, newest first.
public struct RecordsResponse: Codable, Sendable {
    public var records: [RecordInfo]
    public init(records: [RecordInfo]) { self.records = records }
}

/// One entry of an audit history.
public struct HistoryEvent: Codable, Sendable, Hashable {
    /// Position in the audit log.
    public var index: Int64
    /// Unix time in milliseconds.
    public var time: Int64
    /// `register`, `login`, `login_failed`, `save`, `retrieve`, `retrieve_refused`.
    public var kind: String
    public var user: String
    public var recordID: String?
    public var fileName: String?
    /// Why an attempt was refused; empty otherwise.
    public var detail: String
    /// The network address the request came from.
    public var source: String
    /// The client installation that made the request; empty when unknown.
    public var clientID: String
    /// Base64 of the exact leaf bytes in the audit log (docs/AUDIT.md), for checking inclusion proofs.
    public var leaf: String?
    public init(index: Int64, time: Int64, kind: String, user: String, recordID: String?, fileName: String?, detail: String, source: String, clientID: String, leaf: String? = nil) {
        self.leaf = leaf
        self.index = index
        self.time = time
        self.kind = kind
        self.user = user
        self.recordID = recordID
        self.fileName = fileName
        self.detail = detail
        self.source = source
        self.clientID = clientID
    }
}

/// `GET /v1/history` and `GET /v1/records/{id}/history` answer.
public struct HistoryResponse: Codable, Sendable {
    public var events: [HistoryEvent]
    public init(events: [HistoryEvent]) { self.events = events }
}

/// The body of every error answer.
public struct ErrorResponse: Codable, Sendable {
    public struct Body: Codable, Sendable {
        /// Stable machine-readable code, for example `unauthorized` or `unavailable`.
        public var code: String
        /// A sentence for the user: what failed and what to do.
        public var message: String
        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }
    public var error: Body
    public init(code: String, message: String) { self.error = Body(code: code, message: message) }
}
