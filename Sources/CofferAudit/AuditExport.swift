import Foundation

/// The layout of an audit export (docs/AUDIT.md), shared by the writer and the verifier.
///
/// ```
/// DIR/log.vkey                        the checkpoint verifier key (name+hash+base64)
/// DIR/entries.jsonl                   line i: the exact leaf bytes of entry i, then "\n"
/// DIR/checkpoints/<size>.note         each stored signed checkpoint, byte for byte
/// DIR/proofs/consistency/<m>-<n>.txt  base64 hashes, one per line: each checkpoint to the next
/// DIR/proofs/inclusion.txt            "<index> <base64 hash>..." per entry, against the newest checkpoint
/// DIR/tree-head.txt                   "<size>\n<base64 root>\n": the database tier's own root (unsigned)
/// ```
public enum AuditExportLayout {
    public static let verifierKey = "log.vkey"
    public static let entries = "entries.jsonl"
    public static let checkpoints = "checkpoints"
    public static let consistency = "proofs/consistency"
    public static let inclusion = "proofs/inclusion.txt"
    public static let treeHead = "tree-head.txt"

    /// Writes an export of `leaves` and `checkpoints` (signed notes) into the empty or new folder `directory`.
    public static func write(
        to directory: String, verifierKey: String, leaves: [[UInt8]], checkpoints: [String], treeHead: (size: Int64, root: [UInt8])
    ) throws {
        let manager = FileManager.default
        if manager.fileExists(atPath: directory), !((try? manager.contentsOfDirectory(atPath: directory)) ?? []).isEmpty {
            throw AuditExportError("\(directory) exists and is not empty; export into a new folder")
        }
        for folder in [directory, "\(directory)/\(Self.checkpoints)", "\(directory)/\(Self.consistency)"] {
            try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        var tree = MemoryMerkleTree()
        var entries = Data()
        for leaf in leaves {
            guard !leaf.contains(0x0A) else { throw AuditExportError("entry \(tree.size) holds a newline; it cannot be written as one line") }
            entries.append(contentsOf: leaf)
            entries.append(0x0A)
            tree.append(leaf: leaf)
        }
        try file(directory, Self.verifierKey, Data((verifierKey + "\n").utf8))
        try file(directory, Self.entries, entries)
        var previous: Int64?
        var newest: Int64?
        for note in checkpoints {
            let size = try Checkpoint(text: try SignedNote(parsing: note).text).size
            try file(directory, "\(Self.checkpoints)/\(size).note", Data(note.utf8))
            if let previous, size <= tree.size {
                let proof = try tree.tree.consistencyProof(oldSize: previous, newSize: size)
                try file(directory, "\(Self.consistency)/\(previous)-\(size).txt", Data(proof.map { Data($0).base64EncodedString() + "\n" }.joined().utf8))
            }
            if size <= tree.size {
                previous = size
                newest = size
            }
        }
        var inclusion = ""
        if let newest {
            for index in 0..<newest {
                inclusion += "\(index)" + (try tree.tree.inclusionProof(index: index, size: newest)).map { " " + Data($0).base64EncodedString() }.joined() + "\n"
            }
        }
        try file(directory, Self.inclusion, Data(inclusion.utf8))
        try file(directory, Self.treeHead, Data("\(treeHead.size)\n\(Data(treeHead.root).base64EncodedString())\n".utf8))
    }

    private static func file(_ directory: String, _ name: String, _ data: Data) throws {
        guard FileManager.default.createFile(atPath: "\(directory)/\(name)", contents: data) else {
            throw AuditExportError("cannot write \(directory)/\(name)")
        }
    }
}

/// Checks an audit export offline: every entry, every checkpoint, every proof.
public enum AuditExportVerifier {
    /// What the check found.
    public struct Report: Sendable, Codable {
        public var entries: Int64
        public var checkpoints: [Int64]
        /// Entries after the newest checkpoint: not yet covered by a signature.
        public var uncovered: Int64
        /// Everything wrong, one sentence each; empty when the export verifies.
        public var problems: [String]
        public var ok: Bool { problems.isEmpty }
    }

    /// Verifies the export in `directory` with the checkpoint key `verifier`, and against `known`
    /// checkpoint notes the auditor kept from before (a previous export, a client, a witness).
    public static func verify(directory: String, verifier: NoteVerifier, known: [String] = []) throws -> Report {
        try verify(directory: directory, verifiers: [verifier], known: known)
    }

    /// The same with every checkpoint key the log was signed with (a rotation's, newest first).
    public static func verify(directory: String, verifiers: [NoteVerifier], known: [String] = []) throws -> Report {
        var problems: [String] = []
        guard let entriesData = FileManager.default.contents(atPath: "\(directory)/\(AuditExportLayout.entries)") else {
            throw AuditExportError("\(directory) has no \(AuditExportLayout.entries); is it an audit export?")
        }
        var tree = MemoryMerkleTree()
        let lines = Array(entriesData).split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == false { problems.append("\(AuditExportLayout.entries) does not end with a newline") }
        for (number, line) in lines.dropLast().enumerated() {
            let leaf = Array(line)
            do {
                let entry = try AuditLeaf(bytes: leaf)
                if entry.index != Int64(number) {
                    problems.append("line \(number + 1) of \(AuditExportLayout.entries) holds entry #\(entry.index), not #\(number): entries were removed, inserted or reordered")
                }
            } catch {
                problems.append("line \(number + 1) of \(AuditExportLayout.entries) is not an audit entry: \(error)")
            }
            tree.append(leaf: leaf)
        }
        let merkle = tree.tree

        var checkpoints: [Checkpoint] = []
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: "\(directory)/\(AuditExportLayout.checkpoints)")) ?? [])
            .filter { $0.hasSuffix(".note") }
        for name in files {
            guard let note = try? String(contentsOfFile: "\(directory)/\(AuditExportLayout.checkpoints)/\(name)", encoding: .utf8) else {
                problems.append("cannot read \(AuditExportLayout.checkpoints)/\(name)")
                continue
            }
            do {
                let checkpoint = try Checkpoint.open(note, verifiers: verifiers, origin: verifiers.first?.keyName)
                if name != "\(checkpoint.size).note" { problems.append("\(AuditExportLayout.checkpoints)/\(name) holds the checkpoint of \(checkpoint.size) entries") }
                checkpoints.append(checkpoint)
            } catch {
                problems.append("\(AuditExportLayout.checkpoints)/\(name) does not verify: \(error)")
            }
        }
        checkpoints.sort { $0.size < $1.size }
        for (label, checkpoint) in checkpoints.map({ ("the checkpoint of \($0.size) entries", $0) }) + (try known.map { note in
            let checkpoint = try Checkpoint.open(note, verifiers: verifiers, origin: verifiers.first?.keyName)
            return ("the known checkpoint of \(checkpoint.size) entries", checkpoint)
        }) {
            if checkpoint.size > tree.size {
                problems.append("\(label) covers more than the \(tree.size) exported entries: the log was truncated")
            } else if try merkle.rootHash(size: checkpoint.size) != checkpoint.rootHash {
                problems.append("the entries do not produce the root of \(label): an entry before #\(checkpoint.size) was edited, removed, reordered or replaced")
            }
        }
        for (old, new) in zip(checkpoints, checkpoints.dropFirst()) where new.size <= tree.size {
            let name = "\(AuditExportLayout.consistency)/\(old.size)-\(new.size).txt"
            do {
                let proof = try MerkleProof.hashes(base64: String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8).split(separator: "\n").map(String.init))
                try MerkleProof.verifyConsistency(oldSize: old.size, newSize: new.size, oldRoot: old.rootHash, newRoot: new.rootHash, proof: proof)
            } catch {
                problems.append("\(name) does not prove that the checkpoint of \(new.size) entries extends the one of \(old.size): \(error)")
            }
        }
        let newest = checkpoints.last { $0.size <= tree.size }
        if let newest, let text = try? String(contentsOfFile: "\(directory)/\(AuditExportLayout.inclusion)", encoding: .utf8) {
            var proved = Set<Int64>()
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ").map(String.init)
                guard let index = fields.first.flatMap({ Int64($0) }), index >= 0, index < newest.size, let proof = try? MerkleProof.hashes(base64: Array(fields.dropFirst())) else {
                    problems.append("a line of \(AuditExportLayout.inclusion) is malformed")
                    continue
                }
                do {
                    try MerkleProof.verifyInclusion(leafHash: MerkleHash.leaf(Array(lines[Int(index)])), index: index, size: newest.size, proof: proof, root: newest.rootHash)
                    proved.insert(index)
                } catch {
                    problems.append("the inclusion proof of entry #\(index) does not verify against the checkpoint of \(newest.size) entries")
                }
            }
            if proved.count != Int(newest.size) { problems.append("\(AuditExportLayout.inclusion) proves \(proved.count) of the \(newest.size) checkpointed entries") }
        }
        if let head = try? String(contentsOfFile: "\(directory)/\(AuditExportLayout.treeHead)", encoding: .utf8) {
            let fields = head.split(separator: "\n").map(String.init)
            if fields.count == 2, let size = Int64(fields[0]), let root = Data(base64Encoded: fields[1]), size <= tree.size {
                if try merkle.rootHash(size: size) != Array(root) {
                    problems.append("the database tier's stored tree of \(size) entries does not match the exported entries: rows were changed behind the tree")
                }
            } else {
                problems.append("\(AuditExportLayout.treeHead) does not match the exported entries")
            }
        }
        if checkpoints.isEmpty { problems.append("the export holds no signed checkpoint, so nothing in it is signed") }
        return Report(entries: tree.size, checkpoints: checkpoints.map(\.size), uncovered: tree.size - (newest?.size ?? 0), problems: problems)
    }
}

/// A problem reading or writing an audit export.
public struct AuditExportError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
