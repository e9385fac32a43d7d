import CofferAPI
import CofferFiles
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Keeps plaintext working copies of the user's central copies, and of those shared with them,
/// current in a folder: a RETRIEVE started by the passing of time.
///
/// A record is retrieved when its content changed — another record of that name was saved (a new
/// record id), or this one never was retrieved here — and never after a mere re-seal, which keeps
/// the record and its SHA-256: so two installations watching the same records do not retrieve each
/// other's re-seals forever. Own records go to `DIR/NAME` (the newest record of each name), those
/// shared with the user to `DIR/from-OWNER/NAME`.
///
/// Nothing local is lost: a working copy changed here since it was retrieved, or a file this watch
/// did not write, is never replaced (one line says so). What was retrieved is remembered in
/// `DIR/.coffer-retrieved.json`. Each retrieve is authenticated, audited and re-sealed like any other.
public struct AutoRetriever: Sendable {
    let files: @Sendable () throws -> SecureFiles
    let directory: String
    let log: @Sendable (String) -> Void

    /// The file that remembers what was retrieved, in the folder.
    public static let stateFile = ".coffer-retrieved.json"

    public init(directory: String, log: @escaping @Sendable (String) -> Void, files: @escaping @Sendable () throws -> SecureFiles) {
        self.directory = directory
        self.log = log
        self.files = files
    }

    /// Checks every `every`, until cancelled.
    public func run(every: Duration) async throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ClientError(.noInput, "\(directory) is not a folder")
        }
        log("keeping \(directory) current with your central copies and those shared with you, checking every \(every)")
        var said = Said()
        while true {
            await pass(&said)
            try await Task.sleep(for: every)
        }
    }

    /// One look at the records, retrieving those whose content changed.
    func pass(_ said: inout Said) async {
        let wanted: [Wanted]
        do {
            wanted = try await self.wanted()
        } catch let error as ClientError {
            said.once("records", "cannot list your records: \(error.message)", log)
            return
        } catch {
            said.once("records", "cannot list your records: \(error)", log)
            return
        }
        said.clear("records")
        var state = RetrievedState.load(from: directory + "/" + Self.stateFile)
        for item in wanted {
            let path = directory + "/" + item.path
            let kept = state.files[item.path]
            var local = LocalFile(path: path)
            // A file touched but not changed (its bytes still the ones retrieved) is not a local change.
            if let seen = local, let kept, seen != kept.local, Self.sha256(of: path) == kept.sha256 {
                state.files[item.path]?.local = seen
                try? state.save(to: directory + "/" + Self.stateFile)
                local = seen
            }
            if let kept, kept.recordID == item.recordID, kept.sha256 == item.sha256, local == state.files[item.path]?.local { said.clear(item.path); continue }
            if let local, local != state.files[item.path]?.local {
                said.once(item.path, kept == nil
                    ? "\(item.path) is here but was not retrieved by this watch; it is not replaced (move it away to get the central copy)"
                    : "\(item.path) was changed here since it was retrieved; it is not replaced (save it, or move it away to get the newest)", log)
                continue
            }
            do {
                if item.path.contains("/") {
                    try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                                                            withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                }
                let result = try await files().retrieveCentral(item.recordID, output: path, force: true)
                guard let written = LocalFile(path: path) else { throw ClientError(.ioError, "\(path) is missing after the retrieve") }
                // Someone may have changed the file between its writing and now (the re-sealed
                // container was being uploaded meanwhile): then it is theirs, not ours.
                let ours = Self.sha256(of: path) == result.sha256
                state.files[item.path] = RetrievedState.Entry(recordID: item.recordID, sha256: result.sha256, local: ours ? written : .changed)
                try state.save(to: directory + "/" + Self.stateFile)
                said.clear(item.path)
                let from = item.owner.map { " shared by \($0)" } ?? ""
                log("retrieved \(item.path) (record \(item.recordID)\(from), \(result.size) bytes\(result.resealed ? ", central copy re-sealed" : ""))")
                if let problem = result.resealProblem { log("warning: \(item.path): \(problem)") }
            } catch let error as ClientError {
                said.once(item.path, "could not retrieve \(item.path): \(error.message)", log)
            } catch {
                said.once(item.path, "could not retrieve \(item.path): \(error)", log)
            }
        }
    }

    /// A record to keep here: where, and what content.
    struct Wanted {
        var path: String
        var recordID: String
        var sha256: String
        /// Who shared it; `nil` for the user's own.
        var owner: String?
    }

    /// The records with a central copy the user may retrieve: the newest of each name of theirs,
    /// and the most recently shared of each name and owner of those shared with them.
    func wanted() async throws -> [Wanted] {
        let files = try self.files()
        let own = try await files.service.records(session: files.session).records.filter { $0.central != nil && !$0.deleted }
        var byName: [String: RecordInfo] = [:]
        for record in own where Self.isSafeName(record.fileName) {
            if let seen = byName[record.fileName], seen.created >= record.created { continue }
            byName[record.fileName] = record
        }
        var wanted = byName.values.map { Wanted(path: $0.fileName, recordID: $0.recordID, sha256: $0.sha256, owner: nil) }
        var shared: [String: GrantInfo] = [:]
        for grant in try await files.grants() where grant.grantee == files.user && grant.central != nil && Self.isSafeName(grant.fileName) {
            let path = "from-\(grant.owner)/\(grant.fileName)"
            if let seen = shared[path], seen.granted >= grant.granted { continue }
            shared[path] = grant
        }
        wanted += shared.map { Wanted(path: $0.key, recordID: $0.value.recordID, sha256: $0.value.sha256, owner: $0.value.owner) }
        return wanted.sorted { $0.path < $1.path }
    }

    /// The SHA-256 of a working copy, or `nil` when it cannot be read.
    static func sha256(of path: String) -> String? {
        guard let file = try? InputFile(path: path) else { return nil }
        return try? SecureFiles.digest(of: file, path: path, showProgress: false)
    }

    /// Whether a recorded file name may be a name in the folder: not hidden (the watch's own files
    /// are), and none of the names the file system gives a meaning. (Recorded names never hold `/`.)
    static func isSafeName(_ name: String) -> Bool {
        !name.hasPrefix(".") && !name.contains("/") && !name.hasSuffix(".coffer") && !name.hasPrefix("from-")
    }
}

/// What a working copy looks like on disk: enough to see that someone changed it.
struct LocalFile: Codable, Equatable {
    var size: Int64
    var modifiedNs: Int64

    /// What no file on disk looks like: recorded when the file was changed before the watch could
    /// note it, so that it counts as a local change.
    static let changed = LocalFile(size: -1, modifiedNs: -1)

    private init(size: Int64, modifiedNs: Int64) {
        self.size = size
        self.modifiedNs = modifiedNs
    }

    init?(path: String) {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        size = Int64(info.st_size)
        modifiedNs = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }
}

/// What a folder's watch retrieved: for each path, the record and content, and the file it wrote.
struct RetrievedState: Codable {
    struct Entry: Codable {
        var recordID: String
        var sha256: String
        var local: LocalFile
    }
    var version = 1
    var files: [String: Entry] = [:]

    static func load(from path: String) -> RetrievedState {
        guard let data = FileManager.default.contents(atPath: path),
              let state = try? JSONDecoder().decode(RetrievedState.self, from: data), state.version == 1 else { return RetrievedState() }
        return state
    }

    func save(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        do {
            try AtomicFile.write(Array(try encoder.encode(self)), to: path, mode: 0o600)
        } catch {
            throw ClientError(.ioError, "cannot write \(path): \(error)")
        }
    }
}

/// The lines already said, so that a problem that lasts is said once, not at every pass.
struct Said {
    private var lines: [String: String] = [:]

    mutating func once(_ key: String, _ line: String, _ log: (String) -> Void) {
        guard lines[key] != line else { return }
        lines[key] = line
        log(line)
    }

    mutating func clear(_ key: String) { lines[key] = nil }
}
