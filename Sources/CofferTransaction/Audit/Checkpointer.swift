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
        public init() {}
    }

    /// A signed checkpoint and its note.
    public struct Signed: Sendable {
        public var checkpoint: Checkpoint
        public var note: String
    }

    private let signer: NoteSigner
    private let database: any DatabaseCalling
    private let policy: Policy
    private let logger: Logger
    private var latest: Signed?
    private var making: Task<Signed, any Error>?
    /// Set once the log showed a rewrite.
    private nonisolated let faultState = Mutex<String?>(nil)

    /// Why signing stopped, if it did; health reports it.
    public nonisolated var fault: String? { faultState.withLock { $0 } }

    public init(signer: NoteSigner, database: any DatabaseCalling, policy: Policy, logger: Logger) {
        self.signer = signer
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
            latest = Signed(checkpoint: try Checkpoint.open(note, verifier: signer.verifier, origin: origin), note: note)
            let written = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
            TransactionMetrics.checkpoint(size: latest?.checkpoint.size ?? 0, signedAt: written ?? Date())
        } catch {
            throw TransactionTierError("\(path) does not hold a checkpoint signed by this checkpoint key: \(error)")
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
        let ask = WireMessages.getAuditProofs(owner: "", treeSize: 0, indexes: [], fromSizes: latest.map { [$0.checkpoint.size] } ?? [])
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
                earlier.append(Signed(checkpoint: try Checkpoint.open(note, verifier: signer.verifier, origin: origin), note: note))
            } catch {
                try refuse("the newest stored checkpoint is not signed by this checkpoint key: \(error)")
            }
        }
        for previous in earlier {
            let old = previous.checkpoint
            do {
                try MerkleProof.verifyConsistency(oldSize: old.size, newSize: size, oldRoot: old.rootHash, newRoot: root, proof: proofs[old.size] ?? [])
            } catch {
                try refuse("the log of \(size) entries does not extend the signed checkpoint of \(old.size) entries: \(error)")
            }
        }
        if let newest = earlier.max(by: { $0.checkpoint.size < $1.checkpoint.size }), newest.checkpoint.size == size {
            adopt(newest)
            return newest
        }
        let checkpoint = Checkpoint(origin: origin, size: size, rootHash: root)
        let signing = ContinuousClock.now
        let signed = Signed(checkpoint: checkpoint, note: try signer.sign(checkpoint.text).serialized)
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

    private func adopt(_ signed: Signed) {
        guard signed.checkpoint.size >= latest?.checkpoint.size ?? 0 else { return }
        latest = signed
        TransactionMetrics.checkpoint(size: signed.checkpoint.size, signedAt: Date())
        guard let path = policy.stateFile else { return }
        do {
            try AtomicFile.write(Array(signed.note.utf8), to: path)
        } catch {
            logger.warning("cannot write the checkpoint state file", metadata: ["coffer.file": "\(path)", "coffer.error": "\(error)"])
        }
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
