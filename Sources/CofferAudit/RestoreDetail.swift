/// What a `restore` audit entry states, in its detail: the backup the store was restored from and
/// how much log was lost with it. The operator's tool writes it (`coffer-admin restore`); the
/// transaction tier reads it before it signs across the restore, and clients before they accept
/// that entries they saw are gone (docs/AUDIT.md, "Restores").
///
/// Detail form: `backup_entries=M backup_root=HEX backup_taken_ms=T lost_entries=N|unknown; NOTE`.
/// The entry itself is entry M: it follows the backup's last entry.
public struct RestoreDetail: Sendable, Equatable {
    /// The entries the backup's log held (0 to M - 1); the restore entry is entry M.
    public var backupEntries: Int64
    /// The backup log's Merkle root, 64 lowercase hex digits.
    public var backupRoot: String
    /// When the backup was taken, Unix milliseconds.
    public var backupTakenMs: Int64
    /// The entries the log held before the restore, when the store replaced could still be read.
    public var lostEntries: Int64?
    /// What the operator wrote about it.
    public var note: String

    public init(backupEntries: Int64, backupRoot: String, backupTakenMs: Int64, lostEntries: Int64?, note: String) {
        self.backupEntries = backupEntries
        self.backupRoot = backupRoot
        self.backupTakenMs = backupTakenMs
        self.lostEntries = lostEntries
        self.note = note
    }

    /// ``backupRoot`` as bytes.
    public var backupRootHash: [UInt8]? { AuditLeaf.bytes(hex: backupRoot) }

    /// What `leaf` states when it is a restore entry in its place: kind `restore`, a well-formed
    /// detail, right after the backup's last entry (`backup_entries` is its own index); `nil` otherwise.
    /// The transaction tier checks this before it signs across a restore, a client before it accepts one.
    public init?(entry leaf: AuditLeaf) {
        guard leaf.kind == AuditKind.restore.rawValue, let detail = RestoreDetail(detail: leaf.detail), detail.backupEntries == leaf.index else { return nil }
        self = detail
    }

    /// The detail as the entry carries it.
    public var detail: String {
        "backup_entries=\(backupEntries) backup_root=\(backupRoot) backup_taken_ms=\(backupTakenMs) "
            + "lost_entries=\(lostEntries.map(String.init) ?? "unknown"); \(note)"
    }

    /// Reads a detail written by ``detail``; `nil` for anything else.
    public init?(detail: String) {
        guard let split = detail.firstIndex(of: ";") else { return nil }
        let fields = detail[..<split].split(separator: " ")
        guard fields.count == 4 else { return nil }
        var values: [Substring: Substring] = [:]
        for field in fields {
            let pair = field.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, values[pair[0]] == nil else { return nil }
            values[pair[0]] = pair[1]
        }
        guard let entries = values["backup_entries"].flatMap({ Int64($0) }), entries >= 0,
              let root = values["backup_root"], root.count == 64, root.allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
              let taken = values["backup_taken_ms"].flatMap({ Int64($0) }),
              let lost = values["lost_entries"]
        else { return nil }
        let lostEntries: Int64?
        if lost == "unknown" {
            lostEntries = nil
        } else {
            guard let count = Int64(lost), count >= 0 else { return nil }
            lostEntries = count
        }
        var note = detail[detail.index(after: split)...]
        if note.first == " " { note = note.dropFirst() }
        self.init(backupEntries: entries, backupRoot: String(root), backupTakenMs: taken, lostEntries: lostEntries, note: String(note))
    }
}
