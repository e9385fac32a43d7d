import CofferAPI
import CofferTimestamp
import Crypto
import Foundation
import HTTPTypes

/// A record's key pair and its time-stamped receipt: the first (a save) or the next (a re-seal).
struct KeyGeneration: Sendable {
    let recordID: [UInt8]
    let decodeKey: P256.KeyAgreement.PrivateKey
    let encodeKeyID: [UInt8]
    let receipt: Receipt
    /// The receipt's RFC 3161 time-stamp token (DER).
    let token: [UInt8]

    /// The encode key in the API's form: base64 X9.63.
    var encodeKey: String { decodeKey.publicKey.x963Representation.base64EncodedString() }
}

/// Makes key generations: a fresh P-256 pair and a receipt time-stamped by the key service.
struct KeyGenerator: Sendable {
    let timestamps: TimestampAuthority

    /// A fresh key pair for `recordID` and its receipt over what the client said of the file.
    func make(recordID: [UInt8], session: Session, fileName: String, sha256: String, size: Int64, now: Int64) throws -> KeyGeneration {
        guard let id = RecordID.text(recordID) else { throw APIError.internalError }
        let decodeKey = P256.KeyAgreement.PrivateKey()
        let encodeKeyID = KeyWrapper.keyID(decodeKey.publicKey)
        var receipt = Receipt(
            recordID: id, owner: session.user, clientID: session.clientID, fileName: fileName,
            sha256: sha256, size: size, time: now, encodeKeyID: Hex.encode(encodeKeyID)
        )
        let token = try timestamps.stamp(sha256: receipt.imprint)
        receipt.token = Data(token).base64EncodedString()
        return KeyGeneration(recordID: recordID, decodeKey: decodeKey, encodeKeyID: encodeKeyID, receipt: receipt, token: token)
    }
}
