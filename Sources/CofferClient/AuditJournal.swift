import CofferFiles
import Foundation

/// The audit entries this client saw acknowledged, and the last checkpoint it verified, per server.
///
/// Kept under `<state>/audit/`: `<server>.journal` has one `RECORD-ID INDEX KIND` line per save or
/// retrieve; `<server>.checkpoint` the newest verified checkpoint note; `<server>.vkey` the
/// checkpoint key learned on first use. A later history that lacks a journal entry, or does not
/// extend the stored checkpoint, was rewritten.
public struct AuditJournal: Sendable {
    let directory: String
    let stem: String

    public init(stateDirectory: String, server: ServerAddress) {
        self.directory = stateDirectory + "/audit"
        self.stem = String(server.description.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
    }

    var journalPath: String { "\(directory)/\(stem).journal" }
    var checkpointPath: String { "\(directory)/\(stem).checkpoint" }
    var verifierKeyPath: String { "\(directory)/\(stem).vkey" }
    var restoresPath: String { "\(directory)/\(stem).restores" }
    var lostPath: String { "\(directory)/\(stem).lost" }

    /// Notes that entry `index` of kind `kind` records an operation on `recordID`.
    public func record(recordID: String, index: Int64, kind: String) throws {
        try ensureDirectory()
        let line = "\(recordID) \(index) \(kind)\n"
        let fd = open(journalPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { throw ClientError(.cannotCreate, "cannot write \(journalPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = line.utf8CString.withUnsafeBytes { write(fd, $0.baseAddress, line.utf8.count) }
        guard written == line.utf8.count else { throw ClientError(.ioError, "cannot write \(journalPath)") }
    }

    /// The entries noted for `recordID`.
    public func entries(recordID: String) -> [(index: Int64, kind: String)] {
        guard let text = try? String(contentsOfFile: journalPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[0] == recordID, let index = Int64(fields[1]) else { return nil }
            return (index, String(fields[2]))
        }
    }

    /// The last verified checkpoint note, if any.
    public func checkpoint() -> String? { try? String(contentsOfFile: checkpointPath, encoding: .utf8) }

    /// The checkpoint key learned on first use, if any.
    public func verifierKey() -> String? {
        (try? String(contentsOfFile: verifierKeyPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The indexes of the `restore` entries this client has seen in a verified log.
    func knownRestores() -> Set<Int64> {
        guard let text = try? String(contentsOfFile: restoresPath, encoding: .utf8) else { return [] }
        return Set(text.split(whereSeparator: \.isWhitespace).compactMap { Int64($0) })
    }

    /// Adds `indexes` to the restores seen.
    func storeKnownRestores(_ indexes: [Int64]) throws {
        let known = knownRestores()
        guard !Set(indexes).isSubset(of: known) else { return }
        try replace(restoresPath, known.union(indexes).sorted().map(String.init).joined(separator: "\n") + "\n")
    }

    /// Moves the journal's entries from `index` on, which a restore lost, to the `.lost` file.
    func setAside(from index: Int64) throws {
        guard let text = try? String(contentsOfFile: journalPath, encoding: .utf8) else { return }
        let lines = text.split(separator: "\n")
        let (kept, lost) = lines.reduce(into: ([Substring](), [Substring]())) { parts, line in
            let fields = line.split(separator: " ")
            if fields.count == 3, let at = Int64(fields[1]), at >= index { parts.1.append(line) } else { parts.0.append(line) }
        }
        guard !lost.isEmpty else { return }
        let earlier = (try? String(contentsOfFile: lostPath, encoding: .utf8)) ?? ""
        try replace(lostPath, earlier + lost.joined(separator: "\n") + "\n")
        try replace(journalPath, kept.isEmpty ? "" : kept.joined(separator: "\n") + "\n")
    }

    /// Keeps `note` as the newest verified checkpoint, atomically.
    public func storeCheckpoint(_ note: String) throws {
        try replace(checkpointPath, note)
    }

    /// Pins the checkpoint key.
    public func storeVerifierKey(_ key: String) throws {
        try replace(verifierKeyPath, key + "\n")
    }

    private func replace(_ path: String, _ text: String) throws {
        try ensureDirectory()
        do {
            try AtomicFile.write(Array(text.utf8), to: path, mode: 0o600)
        } catch let error as FileWriteError {
            throw ClientError(error)
        }
    }

    private func ensureDirectory() throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ClientError(.cannotCreate, "cannot create \(directory): \(error.localizedDescription)")
        }
    }
}
