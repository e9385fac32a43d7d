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
    }

    /// Verifies the history of `recordID`; `identityKey` is the server key just proved against the pin.
    public func verify(recordID: String, identityKey: P256.Signing.PublicKey) async throws -> Report {
        let answer = try await service.auditCheckpoint(session: session)
        guard AuditKeyStatement.isValid(answer, identityKey: identityKey) else {
            throw ClientError(.notPermitted, "the key service's checkpoint key is not vouched for by its identity key; refusing to trust its checkpoints")
        }
        if let pinned = journal.verifierKey(), pinned != answer.verifierKey {
            throw ClientError(.notPermitted, """
                WARNING: THE AUDIT CHECKPOINT KEY HAS CHANGED: the service now signs with \(answer.verifierKey) but \(pinned) \
                is pinned in \(journal.verifierKeyPath). If the operator confirms a key rotation, delete that file and verify again.
                """)
        }
        let verifier: NoteVerifier
        let checkpoint: Checkpoint
        do {
            verifier = try NoteVerifier(parsing: answer.verifierKey)
            checkpoint = try Checkpoint.open(answer.checkpoint, verifier: verifier, origin: verifier.keyName)
        } catch {
            throw ClientError(.dataError, "the key service's audit checkpoint does not verify: \(error)")
        }
        var previous: Checkpoint?
        if let stored = journal.checkpoint() {
            do {
                previous = try Checkpoint.open(stored, verifier: verifier, origin: verifier.keyName)
            } catch {
                throw ClientError(.dataError, "the checkpoint kept in \(journal.checkpointPath) does not verify: \(error)")
            }
        }
        if let previous, previous.size > checkpoint.size {
            throw rewritten("the newest checkpoint covers \(checkpoint.size) entries, but this client verified a checkpoint of \(previous.size) entries before: the log was truncated")
        }

        let history = try await service.history(recordID: recordID, session: session)
        let covered = history.events.filter { $0.index < checkpoint.size }
        let proofs = try await service.auditProofs(
            AuditProofsRequest(treeSize: checkpoint.size, fromSize: previous?.size, indexes: covered.map(\.index)), session: session
        )
        guard proofs.treeSize == checkpoint.size, Data(base64Encoded: proofs.rootHash).map(Array.init) == checkpoint.rootHash else {
            throw rewritten("the log's tree of \(checkpoint.size) entries does not have the root its signed checkpoint states")
        }
        if let previous {
            do {
                try MerkleProof.verifyConsistency(
                    oldSize: previous.size, newSize: checkpoint.size, oldRoot: previous.rootHash, newRoot: checkpoint.rootHash,
                    proof: try MerkleProof.hashes(base64: proofs.consistency ?? [])
                )
            } catch {
                throw rewritten("the log of \(checkpoint.size) entries is not an extension of the checkpoint of \(previous.size) entries this client verified before (\(error))")
            }
        }
        var events: [HistoryEvent] = []
        for event in covered {
            guard let item = proofs.inclusion.first(where: { $0.index == event.index }),
                  let leaf = Data(base64Encoded: item.leaf).map(Array.init), item.leaf == event.leaf
            else { throw rewritten("entry #\(event.index) has no inclusion proof, or its proof is for other bytes") }
            do {
                try MerkleProof.verifyInclusion(leafHash: MerkleHash.leaf(leaf), index: event.index, size: checkpoint.size, proof: try MerkleProof.hashes(base64: item.proof), root: checkpoint.rootHash)
            } catch {
                throw rewritten("entry #\(event.index) (\(event.kind)) is not in the log its checkpoint commits to: it was edited, moved or inserted")
            }
            let stated = try AuditLeaf(bytes: leaf)
            guard stated.index == event.index, stated.kind == event.kind, stated.timeMs == event.time, stated.user == event.user,
                  stated.fileName == event.fileName, stated.detail == event.detail, stated.source == event.source, stated.clientID == event.clientID,
                  stated.recordID == event.recordID.map({ $0.replacingOccurrences(of: "-", with: "").lowercased() })
            else { throw rewritten("entry #\(event.index) as listed differs from the entry in the log") }
            events.append(event)
        }
        let noted = journal.entries(recordID: recordID).filter { $0.index < checkpoint.size }
        for entry in noted where !events.contains(where: { $0.index == entry.index && $0.kind == entry.kind }) {
            throw rewritten("entry #\(entry.index) (\(entry.kind)), which this client saw acknowledged, is missing from the history: it was deleted or moved")
        }
        try journal.storeCheckpoint(answer.checkpoint)
        if journal.verifierKey() == nil { try journal.storeVerifierKey(answer.verifierKey) }
        return Report(
            events: events, origin: checkpoint.origin, treeSize: checkpoint.size, previousTreeSize: previous?.size,
            journalEntries: noted.count, newerThanCheckpoint: history.events.count - covered.count
        )
    }

    private func rewritten(_ what: String) -> ClientError {
        ClientError(.dataError, "THE AUDIT HISTORY WAS REWRITTEN: \(what). Keep \(journal.checkpointPath) as evidence and tell the operator and your auditor.")
    }
}
