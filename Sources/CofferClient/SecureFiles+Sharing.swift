public import CofferAPI
import CofferText
import Foundation

/// Sharing (docs/PROTOCOL.md, Sharing): an owner lets another registered user retrieve one record,
/// until a time or until revoked. The key service checks the grant at every request, audits each
/// access under the grantee's name, and shows it in the owner's history.
extension SecureFiles {
    /// Shares the record `target` names (a container, a record id, or the file name of exactly one
    /// of the caller's records) with `grantee`, until `expires` (Unix ms) or until revoked.
    public func share(_ target: String, with grantee: String, expires: Int64?) async throws -> GrantChangeResponse {
        try Self.checkUserName(grantee)
        guard grantee != user else { throw ClientError(.usage, "a record cannot be shared with its owner") }
        if let expires, expires <= Int64(Date().timeIntervalSince1970 * 1000) {
            throw ClientError(.usage, "the grant would end before it begins; give a time in the future with --until")
        }
        let recordID = try await resolveOwnRecord(target)
        do {
            let answer = try await service.share(recordID: recordID, ShareRequest(grantee: grantee, expires: expires), session: session)
            note(recordID: recordID, index: answer.auditIndex, kind: "share")
            return answer
        } catch let error as ClientError where error.code == .usage && error.message.contains("no registered user") {
            throw ClientError(.usage, "no registered user is named \(grantee); nothing was shared")
        }
    }

    /// Revokes the caller's grant of the record `target` names to `grantee`, at once.
    public func unshare(_ target: String, with grantee: String) async throws -> GrantChangeResponse {
        try Self.checkUserName(grantee)
        let recordID = try await resolveOwnRecord(target)
        let answer = try await service.unshare(recordID: recordID, grantee: grantee, session: session)
        note(recordID: recordID, index: answer.auditIndex, kind: "unshare")
        return answer
    }

    /// The live grants: those others made to the caller, and those the caller made.
    public func grants() async throws -> [GrantInfo] {
        try await service.grants(session: session).grants
    }

    /// Refuses, before anything is asked, a name that cannot be a user's.
    static func checkUserName(_ name: String) throws {
        guard Validation.isValidUserName(name) else {
            throw ClientError(.usage, "\(DisplayText.terminal(name)) is not a user name (lowercase letters, digits, '.', '_' and '-')")
        }
    }

    /// The caller's record a user names: a container (its receipt checked offline first), a record
    /// id, or the file name of exactly one of their records whose keys exist.
    func resolveOwnRecord(_ target: String) async throws -> String {
        if FileManager.default.fileExists(atPath: target) {
            let (_, receipt) = try ReceiptCheck.read(container: target)
            try Self.verifyBeforeAsking(receipt, path: target, caFile: service.caFile)
            guard receipt.owner == user else {
                throw ClientError(.usage, "\(DisplayText.terminal(target)) is \(receipt.owner)'s record; only its owner may share it")
            }
            return receipt.recordID
        }
        if RecordID.bytes(target) != nil { return target.lowercased() }
        let matches = try await service.records(session: session).records.filter { $0.fileName == target && !$0.deleted }
        switch matches.count {
        case 1: return matches[0].recordID
        case 0: throw ClientError(.noInput, "no container or record named \(DisplayText.terminal(target)); `coffer list` shows your records")
        default:
            let ids = matches.map(\.recordID).joined(separator: ", ")
            throw ClientError(.usage, "\(matches.count) records are named \(DisplayText.terminal(target)) (\(ids)); name one by its record id or container")
        }
    }
}
