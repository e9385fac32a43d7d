public import CofferAPI
import CofferAudit
public import Crypto
import Foundation

/// Checks a record's history against the audit log's signed checkpoints (`coffer history FILE --verify`).
///
/// Every listed entry must be a leaf of the newest checkpoint's tree (inclusion proof), that tree
/// must extend the last checkpoint this client verified (consistency proof), and every entry this
/// client saw acknowledged must still be listed. Any failure means the history was rewritten.
public struct HistoryVerifier: Sendable {
    let service: KeyServiceClient
    let session: SessionCredentials
    let journal: AuditJournal

    public init(service: KeyServiceClient, session: SessionCredentials, journal: AuditJournal) {
        self.service = service
        self.session = session
        self.journal = journal
    }

    /// What was verified.
    public struct Report: Codable, Sendable {
        /// The record's entries, as the log's leaves state them.
        public var events: [HistoryEvent]
        /// The log's origin line.
        public var origin: String
        /// The size of the checkpoint the entries were proved against.
        public var treeSize: Int64
        /// The size of the checkpoint this client had verified before, if any.
        public var previousTreeSize: Int64?
        /// Entries this client had noted and found again.
        public var journalEntries: Int
        /// Entries appended after the checkpoint was signed: listed by the server, not yet provable.
        public var newerThanCheckpoint: Int
        /// A restore from a backup that the operator made since this client last verified, if any.
        public var restore: Restore?
        /// The checkpoint key this client had pinned, when the service moved to a new one that its
        /// identity key vouches for; the new one is pinned now.
        public var checkpointKeyRotatedFrom: String?

        /// A restore accepted: the log from `index` on replaced the one this client had seen.
        public struct Restore: Codable, Sendable {
            public var index: Int64
            public var backupTakenMs: Int64
            public var note: String
            /// What to tell the person.
            public var warning: String
        }
    }

    /// Verifies the history of `recordID`; `identityKey` is the server key just proved against the pin.
    public func verify(recordID: String, identityKey: P256.Signing.PublicKey) async throws -> Report {
        let check = CheckpointCheck(service: service, session: session, journal: journal)
        var newest = try await check.newest(identityKey: identityKey)
        let (checkpoint, previous) = (newest.checkpoint, newest.previous)

        let history = try await service.history(recordID: recordID, session: session)
        let covered = history.events.filter { $0.index < checkpoint.size }
        let proofs = try await check.proofs(indexes: covered.map(\.index), &newest)
        var events: [HistoryEvent] = []
        for event in covered {
            let stated = try check.includedLeaf(event.index, name: "entry #\(event.index) (\(event.kind))", listed: event.leaf, in: proofs, newest)
            guard stated.index == event.index, stated.kind == event.kind, stated.timeMs == event.time, stated.user == event.user,
                  stated.fileName == event.fileName, stated.detail == event.detail, stated.source == event.source, stated.clientID == event.clientID,
                  stated.recordID == event.recordID.map({ $0.replacingOccurrences(of: "-", with: "").lowercased() })
            else { throw rewritten("entry #\(event.index) as listed differs from the entry in the log") }
            events.append(event)
        }
        // Entries noted from a restore on were lost with the log the restore replaced.
        let noted = journal.entries(recordID: recordID).filter { $0.index < min(checkpoint.size, newest.restore?.index ?? .max) }
        for entry in noted where !events.contains(where: { $0.index == entry.index && $0.kind == entry.kind }) {
            throw rewritten("entry #\(entry.index) (\(entry.kind)), which this client saw acknowledged, is missing from the history: it was deleted or moved")
        }
        try check.keep(newest)
        return Report(
            events: events, origin: checkpoint.origin, treeSize: checkpoint.size, previousTreeSize: previous?.size,
            journalEntries: noted.count, newerThanCheckpoint: history.events.count - covered.count,
            restore: newest.restore.map { Report.Restore(index: $0.index, backupTakenMs: $0.detail.backupTakenMs, note: $0.detail.note,
                                                          warning: CheckpointCheck.restoreWarning($0, previous: previous, journal: journal)) },
            checkpointKeyRotatedFrom: newest.keyRotatedFrom
        )
    }

    private func rewritten(_ what: String) -> ClientError { CheckpointCheck.rewritten(what, journal: journal) }
}
