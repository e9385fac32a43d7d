public import CofferAudit
import CofferFiles
public import CofferTierLink
import CofferWire
import Foundation
public import Logging
import Synchronization

/// Signs the audit log's checkpoints, never one inconsistent with an earlier one.
///
/// Before signing the tree of size n it asks the database tier for consistency proofs from the last
/// checkpoint this process signed and from the newest stored one, and checks them. The database
/// tier never holds the key, so it cannot forge a checkpoint; if it ever shows a tree that does not
/// extend an earlier checkpoint, signing stops for good (until an operator restarts the process)
/// and health reports the fault.
public actor Checkpointer {
    /// Settings: how often to sign.
    public struct Policy: Sendable {
        /// Sign after this many new entries.
        public var everyEntries: Int64 = 256
        /// Sign at least this often while the log grows.
        public var interval: Duration = .seconds(10)
        /// Where the last signed checkpoint is kept across restarts (optional).
        public var stateFile: String?
        /// The index of a `restore` entry the operator made (`coffer-admin restore`): the one log
        /// that may fail to extend this process's last checkpoint is one restored there.
        public var acceptRestore: Int64?
        public init() {}
    }

    /// A signed checkpoint and its note.
    public struct Signed: Sendable {
        public var checkpoint: Checkpoint
        public var note: String
        /// The log's `restore` entries below the checkpoint's size, newest first, as the database
        /// tier listed them; clients prove them before they accept a restore.
        public var restoreIndexes: [Int64] = []
    }

    private let signer: NoteSigner
    /// The verifier keys of earlier checkpoint keys (a rotation), whose checkpoints still count.
    private let previousVerifiers: [NoteVerifier]
    private let database: any DatabaseCalling
    private let policy: Policy
    private let logger: Logger
    private var latest: Signed?
    private var making: Task<Signed, any Error>?
    /// Set once the log showed a rewrite.
    private nonisolated let faultState = Mutex<String?>(nil)

    /// Why signing stopped, if it did; health reports it.
    public nonisolated var fault: String? { faultState.withLock { $0 } }

    private nonisolated let signedState = Mutex<(size: Int64, atMs: Int64)?>(nil)
    /// The size of the newest checkpoint this process signed or adopted, and when; `coffer-admin status` reports its age.
    public nonisolated var lastSigned: (size: Int64, atMs: Int64)? { signedState.withLock { $0 } }
    /// The restore this process was told to accept, if any.
    public nonisolated var acceptedRestore: Int64? { policy.acceptRestore }

    /// - Parameter previousVerifiers: The keys that signed checkpoints before `signer`'s (a rotation):
    ///   their checkpoints, in the state file and the store, are still checked against.
    public init(signer: NoteSigner, previousVerifiers: [NoteVerifier] = [], database: any DatabaseCalling, policy: Policy, logger: Logger) {
        self.signer = signer
        self.previousVerifiers = previousVerifiers
        self.database = database
        self.policy = policy
        self.logger = logger
    }

    /// The verifier key of the checkpoints, for clients and auditors.
    public nonisolated var verifierKey: String { signer.verifier.serialized }
    /// The log's origin line.
    public nonisolated var origin: String { signer.keyName }

    /// Loads the last signed checkpoint from the state file, refusing one not signed by this key.
    public func loadState() throws {
        guard let path = policy.stateFile, FileManager.default.fileExists(atPath: path) else { return }
        let note = try String(contentsOfFile: path, encoding: .utf8)
        do {
            let checkpoint = try Checkpoint.open(note, verifiers: verifiers, origin: origin)
            latest = Signed(checkpoint: checkpoint, note: note)
            let written = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
            record(size: checkpoint.size, signedAt: written ?? Date())
        } catch {
            throw TransactionTierError("\(path) does not hold a checkpoint signed by this checkpoint key or one named in checkpoint-key-previous: \(error)")
        }
    }

    /// A checkpoint of the whole log as it is now, signing a new one if the log grew.
    public func current() async throws -> Signed {
        if let making { return try await making.value }
        let task = Task { try await self.make() }
        making = task
        defer { making = nil }
        return try await task.value
    }

    /// Tells the checkpointer that entry `index` was appended; signs once enough entries wait.
    public func appended(index: Int64) {
        guard index + 1 - (latest?.checkpoint.size ?? 0) >= policy.everyEntries, making == nil else { return }
        Task { _ = try? await self.current() }
    }

    /// Signs on the interval until cancelled.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: policy.interval)
            } catch {
                return
            }
            do {
                _ = try await current()
            } catch {
                logger.debug("no checkpoint this round", metadata: ["coffer.error": "\(error)"])
            }
        }
    }

    private func make() async throws -> Signed {
        if let fault { throw CheckpointError.inconsistent(fault) }
        let restorePoint = policy.acceptRestore.map { [$0] } ?? []
        let ask = WireMessages.getAuditProofs(owner: "", treeSize: 0, indexes: [], fromSizes: (latest.map { [$0.checkpoint.size] } ?? []) + restorePoint)
        // A size beyond the log (it is shorter than this process's checkpoint) gets no proof: the
        // consistency check below then fails, and says what became of the log.
        guard case .auditProofs(let answer) = try await database.call(ask) else {
            throw CheckpointError.unavailable("the database tier gave an unexpected answer")
        }
        let size = answer.treeSize
        let root = Array(answer.rootHash)
        guard size > 0 else { throw CheckpointError.unavailable("the audit log is empty") }
        let proofs = Dictionary(answer.consistency.map { ($0.fromSize, $0.hashes.map { Array($0) }) }, uniquingKeysWith: { a, _ in a })

        var earlier: [Signed] = latest.map { [$0] } ?? []
        if answer.hasLatestCheckpoint {
            do {
                let note = answer.latestCheckpoint.note
                earlier.append(Signed(checkpoint: try Checkpoint.open(note, verifiers: verifiers, origin: origin), note: note))
            } catch {
                try refuse("the newest stored checkpoint is not signed by this checkpoint key or a previous one: \(error)")
            }
        }
        var superseded = false
        for (position, previous) in earlier.enumerated() {
            let old = previous.checkpoint
            do {
                try MerkleProof.verifyConsistency(oldSize: old.size, newSize: size, oldRoot: old.rootHash, newRoot: root, proof: proofs[old.size] ?? [])
            } catch {
                // Only this process's own checkpoint (position 0) may be superseded by a restore the operator named.
                guard position == 0, latest != nil, let restore = policy.acceptRestore else {
                    try refuse("the log of \(size) entries does not extend the signed checkpoint of \(old.size) entries: \(error)")
                }
                try await checkRestore(at: restore, superseding: old, size: size, root: root, proof: proofs[restore] ?? [])
                superseded = true
            }
        }
        if superseded {
            latest = nil
            earlier.removeFirst()
        }
        let restores = answer.restoreIndexes
        if let newest = earlier.max(by: { $0.checkpoint.size < $1.checkpoint.size }), newest.checkpoint.size == size {
            var newest = newest
            newest.restoreIndexes = restores
            adopt(newest)
            return newest
        }
        let checkpoint = Checkpoint(origin: origin, size: size, rootHash: root)
        let signing = ContinuousClock.now
        let signed = Signed(checkpoint: checkpoint, note: try signer.sign(checkpoint.text).serialized, restoreIndexes: restores)
        TransactionMetrics.keyOperation("sign_checkpoint", since: signing)
        do {
            _ = try await database.call(WireMessages.storeCheckpoint(treeSize: size, rootHash: root, note: signed.note, timeMs: Clock.nowMs()))
        } catch DatabaseLinkError.refused(.conflict, let why) {
            try refuse("the database tier refused the checkpoint of \(size) entries it proposed: \(why)")
        }
        adopt(signed)
        logger.info("signed an audit checkpoint", metadata: ["coffer.tree_size": "\(size)"])
        return signed
    }

    /// Checks that the log of `size` entries was restored at entry `index` by an operator, after
    /// the checkpoint `old`: the entry is a `restore` entry of this log stating that the backup held
    /// `index` entries with the root the log has at that size, and `old` is of the log that was lost.
    /// Refuses (for good) otherwise.
    private func checkRestore(at index: Int64, superseding old: Checkpoint, size: Int64, root: [UInt8], proof: [[UInt8]]) async throws {
        guard index < size, index < old.size else {
            try refuse("accept-restore names entry \(index), but the log of \(size) entries does not extend the checkpoint of \(old.size) entries and no restore after entry \(index) explains it")
        }
        let ask = WireMessages.getAuditProofs(owner: "", treeSize: size, indexes: [index], fromSizes: [])
        guard case .auditProofs(let answer) = try await database.call(ask), answer.treeSize == size, Array(answer.rootHash) == root,
              let item = answer.inclusion.first(where: { $0.index == index })
        else { throw CheckpointError.unavailable("the database tier gave an unexpected answer") }
        let leafBytes = Array(item.leaf)
        guard (try? MerkleProof.verifyInclusion(leafHash: MerkleHash.leaf(leafBytes), index: index, size: size, proof: item.hashes.map { Array($0) }, root: root)) != nil,
              let leaf = try? AuditLeaf(bytes: leafBytes), leaf.index == index, let detail = RestoreDetail(entry: leaf)
        else {
            try refuse("accept-restore names entry \(index), which is not a restore entry following a backup of \(index) entries")
        }
        guard let backupRoot = detail.backupRootHash,
              (try? MerkleProof.verifyConsistency(oldSize: index, newSize: size, oldRoot: backupRoot, newRoot: root, proof: proof)) != nil
        else {
            try refuse("the log of \(size) entries does not begin with the backup of \(index) entries that the restore entry names")
        }
        logger.warning("accepted the restore at audit entry \(index): the checkpoint of \(old.size) entries is superseded", metadata: [
            "coffer.tree_size": "\(size)", "coffer.lost_entries": "\(detail.lostEntries.map(String.init) ?? "unknown")",
        ])
    }

    private func adopt(_ signed: Signed) {
        guard signed.checkpoint.size >= latest?.checkpoint.size ?? 0 else { return }
        latest = signed
        record(size: signed.checkpoint.size, signedAt: Date())
        guard let path = policy.stateFile else { return }
        do {
            try AtomicFile.write(Array(signed.note.utf8), to: path)
        } catch {
            logger.warning("cannot write the checkpoint state file", metadata: ["coffer.file": "\(path)", "coffer.error": "\(error)"])
        }
    }

    /// The keys whose checkpoints count: this one's, then a rotation's earlier ones.
    private var verifiers: [NoteVerifier] { [signer.verifier] + previousVerifiers }

    /// Notes the newest checkpoint for the metrics and `coffer-admin status`.
    private func record(size: Int64, signedAt: Date) {
        TransactionMetrics.checkpoint(size: size, signedAt: signedAt)
        signedState.withLock { $0 = (size, Int64(signedAt.timeIntervalSince1970 * 1000)) }
    }

    private func refuse(_ why: String) throws -> Never {
        faultState.withLock { $0 = why }
        logger.critical("audit log inconsistency: no checkpoint will be signed until an operator investigates", metadata: ["coffer.error": "\(why)"])
        throw CheckpointError.inconsistent(why)
    }
}

/// Why no checkpoint was signed.
public enum CheckpointError: Error, Sendable, CustomStringConvertible {
    /// The database tier showed a log that is not an extension of an earlier checkpoint.
    case inconsistent(String)
    /// No checkpoint can be made now.
    case unavailable(String)

    public var description: String {
        switch self {
        case .inconsistent(let why): "the audit log is inconsistent with an earlier checkpoint: \(why)"
        case .unavailable(let why): why
        }
    }
}
