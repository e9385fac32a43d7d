import Foundation

extension RecordStore {
    /// Thrown inside ``once(requestID:recordID:nowMs:_:)`` when another transaction claimed the id.
    private struct ClaimTaken: Error {}

    /// Runs a changing request at most once per request id: the reply is stored in the same
    /// transaction as the request's effect, and a retry of the same id gets the stored reply.
    ///
    /// The id is claimed first, so two database processes that receive the same retried request at
    /// once serialize on it (PostgreSQL blocks the second claim until the first commits; SQLite's write
    /// lock does the same). If `body` throws, nothing is stored and a retry runs it again.
    ///
    /// - Parameters:
    ///   - recordID: The record whose key the reply may carry; the reply is forgotten when that key is destroyed.
    /// - Returns: The reply, and whether it was stored before (a retry).
    public func once(requestID: [UInt8], recordID: [UInt8]? = nil, nowMs: Int64, _ body: () throws -> [UInt8]) throws -> (reply: [UInt8], repeated: Bool) {
        do {
            return try db.transaction {
                // No error on a taken claim, so no savepoint is needed around it.
                let claimed = try db.query(
                    "INSERT INTO request_replies (request_id, reply, record_id, at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (request_id) DO NOTHING RETURNING 1",
                    [.blob(requestID), .blob([]), recordID.map(SQLValue.blob) ?? .null, .int(nowMs)]
                )
                if claimed.isEmpty { throw ClaimTaken() }
                let reply = try body()
                try db.query("UPDATE request_replies SET reply = $2 WHERE request_id = $1", [.blob(requestID), .blob(reply)])
                return (reply, false)
            }
        } catch is ClaimTaken {
            guard let stored = try db.query("SELECT reply FROM request_replies WHERE request_id = $1", [.blob(requestID)]).first.map({ try $0.blob(0) }),
                  !stored.isEmpty
            else { throw StorageError(.query, "the request is being answered by another database process") }
            return (stored, true)
        }
    }

    /// Forgets stored replies older than `ms`.
    public func forgetReplies(olderThanMs ms: Int64) throws {
        try db.query("DELETE FROM request_replies WHERE at_ms < $1", [.int(ms)])
    }

    /// Forgets the stored replies that carry a key of `recordID`; runs where that key is destroyed.
    /// A claim still in progress (empty reply) is the caller's own and stays.
    func forgetReplies(recordID: [UInt8]) throws {
        try db.query("DELETE FROM request_replies WHERE record_id = $1 AND length(reply) > 0", [.blob(recordID)])
    }
}
