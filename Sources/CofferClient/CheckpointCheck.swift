import CofferAPI
import CofferAudit
import Crypto
import CofferText
import Foundation

/// The audit log's newest signed checkpoint, checked: its key vouched for by the identity key and
/// the same as the one this client pinned, its signature valid, and its tree no smaller than the
/// checkpoint this client verified before. `coffer history --verify` and `coffer web verify` start here.
struct CheckpointCheck: Sendable {
    let service: KeyServiceClient
    let session: SessionCredentials
    let journal: AuditJournal

    struct Newest {
        let answer: AuditCheckpointResponse
        let checkpoint: Checkpoint
        /// The checkpoint this client verified before, if any.
        let previous: Checkpoint?
        /// A restore the operator made after ``previous``, proved by ``proofs(indexes:_:)``: the
        /// entries from its index on that this client saw are gone.
        var restore: (index: Int64, detail: RestoreDetail)?
        /// The checkpoint key this client had pinned, when the service now signs with another that
        /// its identity key vouches for (a rotation).
        var keyRotatedFrom: String?
    }

    func newest(identityKey: P256.Signing.PublicKey) async throws -> Newest {
        let answer = try await service.auditCheckpoint(session: session)
        guard AuditKeyStatement.isValid(answer, identityKey: identityKey) else {
            throw ClientError(.notPermitted, "the key service's checkpoint key is not vouched for by its identity key; refusing to trust its checkpoints")
        }
        let verifier: NoteVerifier
        let checkpoint: Checkpoint
        do {
            verifier = try NoteVerifier(parsing: answer.verifierKey)
            checkpoint = try Checkpoint.open(answer.checkpoint, verifier: verifier, origin: verifier.keyName)
        } catch {
            throw ClientError(.dataError, "the key service's audit checkpoint does not verify: \(error)")
        }
        // A new checkpoint key (a rotation) is taken only as the identity key vouches for it (above),
        // and only if the checkpoint this client kept verifies under the key it pinned.
        let pinned = journal.verifierKey()
        let rotatedFrom = pinned.flatMap { $0 == answer.verifierKey ? nil : $0 }
        let keptVerifier = try rotatedFrom.map { old in
            do {
                return try NoteVerifier(parsing: old)
            } catch {
                throw Self.keyChanged(answer, pinned: old, journal: journal)
            }
        } ?? verifier
        var previous: Checkpoint?
        if let stored = journal.checkpoint() {
            do {
                previous = try Checkpoint.open(stored, verifier: keptVerifier, origin: keptVerifier.keyName)
            } catch {
                if let rotatedFrom { throw Self.keyChanged(answer, pinned: rotatedFrom, journal: journal) }
                throw ClientError(.dataError, "the checkpoint kept in \(journal.checkpointPath) does not verify: \(error)")
            }
        }
        return Newest(answer: answer, checkpoint: checkpoint, previous: previous, keyRotatedFrom: rotatedFrom)
    }

    static func keyChanged(_ answer: AuditCheckpointResponse, pinned: String, journal: AuditJournal) -> ClientError {
        ClientError(.notPermitted, """
            WARNING: THE AUDIT CHECKPOINT KEY HAS CHANGED: the service now signs with \(answer.verifierKey) but \(pinned) \
            is pinned in \(journal.verifierKeyPath), and the checkpoint kept in \(journal.checkpointPath) does not verify under it. \
            If the operator confirms a key rotation, delete both files and verify again.
            """)
    }

    /// The proofs of entries `indexes` at the newest checkpoint's size, with the tree checked: its
    /// root, and its consistency with the checkpoint this client verified before. A log that does
    /// not extend that checkpoint passes only when it holds a `restore` entry this client has not
    /// seen, after the backup's entries and before the checkpoint's end, proved included: then
    /// `newest.restore` names it. Anything else means the history was rewritten.
    func proofs(indexes: [Int64], _ newest: inout Newest) async throws -> AuditProofsResponse {
        let checkpoint = newest.checkpoint
        let known = journal.knownRestores()
        let candidates = (newest.answer.restores ?? []).filter { $0 >= 0 && $0 < checkpoint.size && !known.contains($0) }
        let extendable = newest.previous.map { $0.size <= checkpoint.size } ?? true
        var proofs = try await service.auditProofs(
            AuditProofsRequest(treeSize: checkpoint.size, fromSize: extendable ? newest.previous?.size : nil, indexes: indexes + candidates), session: session
        )
        guard proofs.treeSize == checkpoint.size, Data(base64Encoded: proofs.rootHash).map(Array.init) == checkpoint.rootHash else {
            throw Self.rewritten("the log's tree of \(checkpoint.size) entries does not have the root its signed checkpoint states", journal: journal)
        }
        guard let previous = newest.previous else { return proofs }
        let failure: String
        if extendable {
            do {
                try MerkleProof.verifyConsistency(
                    oldSize: previous.size, newSize: checkpoint.size, oldRoot: previous.rootHash, newRoot: checkpoint.rootHash,
                    proof: try MerkleProof.hashes(base64: proofs.consistency ?? [])
                )
                return proofs
            } catch {
                failure = "the log of \(checkpoint.size) entries is not an extension of the checkpoint of \(previous.size) entries this client verified before (\(error))"
            }
        } else {
            failure = "the newest checkpoint covers \(checkpoint.size) entries, but this client verified a checkpoint of \(previous.size) entries before: the log was truncated"
        }
        // Only a restore made after the checkpoint this client kept explains it: the newest such entry.
        guard let index = candidates.filter({ $0 < previous.size }).max() else { throw Self.rewritten(failure, journal: journal) }
        let leaf = try includedLeaf(index, name: "the restore entry #\(index)", in: proofs, newest)
        guard leaf.index == index, let detail = RestoreDetail(entry: leaf) else {
            throw Self.rewritten(failure + "; entry #\(index), listed as a restore, is not one", journal: journal)
        }
        newest.restore = (index, detail)
        proofs.consistency = nil
        return proofs
    }

    /// The leaf of entry `index` (named `name` in errors), proved included in the newest checkpoint's
    /// tree; when `listed` is given, the proof must be for exactly those (base64) bytes.
    func includedLeaf(_ index: Int64, name: String, listed: String? = nil, in proofs: AuditProofsResponse, _ newest: Newest) throws -> AuditLeaf {
        guard let item = proofs.inclusion.first(where: { $0.index == index }), let leaf = Data(base64Encoded: item.leaf).map(Array.init),
              listed == nil || item.leaf == listed
        else { throw Self.rewritten("\(name) has no inclusion proof, or its proof is for other bytes", journal: journal) }
        do {
            try MerkleProof.verifyInclusion(leafHash: MerkleHash.leaf(leaf), index: index, size: newest.checkpoint.size,
                                            proof: try MerkleProof.hashes(base64: item.proof), root: newest.checkpoint.rootHash)
        } catch {
            throw Self.rewritten("\(name) is not in the log its checkpoint commits to: it was edited, moved or inserted", journal: journal)
        }
        return try AuditLeaf(bytes: leaf)
    }

    /// Keeps the checkpoint (and its key, on first use or after a rotation) as the one verified, and the restores
    /// its log lists as seen; after a restore, sets aside the journal's entries it lost.
    func keep(_ newest: Newest) throws {
        if let restore = newest.restore { try journal.setAside(from: restore.index) }
        try journal.storeKnownRestores(newest.answer.restores ?? [])
        try journal.storeCheckpoint(newest.answer.checkpoint)
        if journal.verifierKey() != newest.answer.verifierKey { try journal.storeVerifierKey(newest.answer.verifierKey) }
    }

    /// One paragraph for the person, when a restore was accepted.
    static func restoreWarning(_ restore: (index: Int64, detail: RestoreDetail), previous: Checkpoint?, journal: AuditJournal) -> String {
        let taken = Date(timeIntervalSince1970: Double(restore.detail.backupTakenMs) / 1000).formatted(.iso8601)
        return """
            WARNING: THE OPERATOR RESTORED THE KEY SERVICE FROM A BACKUP taken \(taken) (audit entry #\(restore.index)): \
            the \(max(0, (previous?.size ?? restore.index) - restore.index)) or more entries this client had seen after it are gone, \
            and so is anything saved or re-sealed after the backup. The entries this client noted are kept in \(journal.lostPath). \
            Operator's note: \(DisplayText.terminal(restore.detail.note))
            """
    }

    static func rewritten(_ what: String, journal: AuditJournal) -> ClientError {
        ClientError(.dataError, "THE AUDIT HISTORY WAS REWRITTEN: \(what). Keep \(journal.checkpointPath) as evidence and tell the operator and your auditor.")
    }
}
