import CofferAPI
import CofferAudit
import Crypto
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
    }

    func newest(identityKey: P256.Signing.PublicKey) async throws -> Newest {
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
            throw Self.rewritten("the newest checkpoint covers \(checkpoint.size) entries, but this client verified a checkpoint of \(previous.size) entries before: the log was truncated", journal: journal)
        }
        return Newest(answer: answer, checkpoint: checkpoint, previous: previous)
    }

    /// Checks the proofs answer's root and the consistency from the previous checkpoint.
    func checkTree(_ proofs: AuditProofsResponse, _ newest: Newest) throws {
        let checkpoint = newest.checkpoint
        guard proofs.treeSize == checkpoint.size, Data(base64Encoded: proofs.rootHash).map(Array.init) == checkpoint.rootHash else {
            throw Self.rewritten("the log's tree of \(checkpoint.size) entries does not have the root its signed checkpoint states", journal: journal)
        }
        if let previous = newest.previous {
            do {
                try MerkleProof.verifyConsistency(
                    oldSize: previous.size, newSize: checkpoint.size, oldRoot: previous.rootHash, newRoot: checkpoint.rootHash,
                    proof: try MerkleProof.hashes(base64: proofs.consistency ?? [])
                )
            } catch {
                throw Self.rewritten("the log of \(checkpoint.size) entries is not an extension of the checkpoint of \(previous.size) entries this client verified before (\(error))", journal: journal)
            }
        }
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

    /// Keeps the checkpoint (and, on first use, its key) as the one verified.
    func keep(_ newest: Newest) throws {
        try journal.storeCheckpoint(newest.answer.checkpoint)
        if journal.verifierKey() == nil { try journal.storeVerifierKey(newest.answer.verifierKey) }
    }

    static func rewritten(_ what: String, journal: AuditJournal) -> ClientError {
        ClientError(.dataError, "THE AUDIT HISTORY WAS REWRITTEN: \(what). Keep \(journal.checkpointPath) as evidence and tell the operator and your auditor.")
    }
}
