import CofferAPI
import CofferTimestamp
import Crypto
import Foundation
import HTTPTypes

/// A record's key pair and its time-stamped receipt: the first (a save) or the next (a re-seal).
/// The decode key is here only wrapped, as the key backend gave it.
struct KeyGeneration: Sendable {
    let recordID: [UInt8]
    let keys: WrappedDecodeKey
    let receipt: Receipt
    /// The receipt's RFC 3161 time-stamp token (DER).
    let token: [UInt8]

    var encodeKeyID: [UInt8] { keys.encodeKeyID }
    var wrappedDecodeKey: [UInt8] { keys.wrapped }
    /// The encode key in the API's form: base64 X9.63.
    var encodeKey: String { keys.encodeKey.x963Representation.base64EncodedString() }
}

/// Makes key generations: a fresh P-256 pair from the key backend and a receipt time-stamped by the
/// key service, both where the backend's calls belong (off the event loop for a device).
struct KeyGenerator: Sendable {
    let keys: any KeyBackend
    /// Whose time-stamping authority stamps receipts: the identity key in force.
    let identity: IdentityKeys

    /// A fresh key pair for `recordID` and its receipt over what the client said of the file.
    ///
    /// - Parameter owner: The record's owner, for whom the decode key is wrapped and whom the
    ///   receipt names; the session's user unless a grantee re-seals the owner's record.
    func make(recordID: [UInt8], session: Session, owner: String? = nil, fileName: String, sha256: String, size: Int64, now: Int64) async throws -> KeyGeneration {
        guard let id = RecordID.text(recordID) else { throw APIError.internalError }
        let owner = owner ?? session.user
        return try await TransactionMetrics.timed("new_generation") {
            let timestamps = identity.active().timestamps
            return try await keys.perform { [keys] in
                let pair = try keys.makeDecodeKey(recordID: recordID, owner: owner)
                var receipt = Receipt(
                    recordID: id, owner: owner, clientID: session.clientID, fileName: fileName,
                    sha256: sha256, size: size, time: now, encodeKeyID: Hex.encode(pair.encodeKeyID)
                )
                let token = try timestamps.stamp(sha256: receipt.imprint)
                receipt.token = Data(token).base64EncodedString()
                return KeyGeneration(recordID: recordID, keys: pair, receipt: receipt, token: token)
            }
        }
    }
}
