import Foundation

/// A C2SP tlog checkpoint (https://c2sp.org/tlog-checkpoint): origin, tree size, root hash.
///
/// Its text is `<origin>\n<size>\n<base64 root>\n`; it is signed as a ``SignedNote``.
public struct Checkpoint: Sendable, Equatable {
    public var origin: String
    public var size: Int64
    public var rootHash: [UInt8]

    public init(origin: String, size: Int64, rootHash: [UInt8]) {
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
    }

    /// The note text to sign.
    public var text: String {
        "\(origin)\n\(size)\n\(Data(rootHash).base64EncodedString())\n"
    }

    /// Parses checkpoint text (the body of a signed note). Extension lines after the root are ignored.
    public init(text: String) throws {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 4, lines.last == "", !lines[0].isEmpty,
              let size = Int64(lines[1]), size >= 0, String(size) == lines[1],
              let root = Data(base64Encoded: String(lines[2])), root.count == MerkleHash.size
        else { throw NoteError.malformed("not a checkpoint: origin, decimal tree size and base64 SHA-256 root expected") }
        self.origin = String(lines[0])
        self.size = size
        self.rootHash = Array(root)
    }

    /// Opens a checkpoint signed by any of `verifiers` (the keys of a rotation, newest first);
    /// throws the first key's refusal when none verifies it.
    public static func open(_ note: String, verifiers: [NoteVerifier], origin: String? = nil) throws -> Checkpoint {
        var first: (any Error)?
        for verifier in verifiers {
            do {
                return try open(note, verifier: verifier, origin: origin)
            } catch {
                first = first ?? error
            }
        }
        throw first ?? NoteError.unverified("no checkpoint key was given")
    }

    /// Verifies `note` with `verifier`, checks its origin, and returns its checkpoint.
    public static func open(_ note: String, verifier: NoteVerifier, origin: String? = nil) throws -> Checkpoint {
        let parsed = try SignedNote(parsing: note)
        let checkpoint = try Checkpoint(text: try verifier.verify(parsed))
        if let origin, checkpoint.origin != origin {
            throw NoteError.unverified("the checkpoint is for the log \"\(checkpoint.origin)\", not \"\(origin)\"")
        }
        return checkpoint
    }
}
