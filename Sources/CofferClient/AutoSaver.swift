import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Secure-saves the files of a folder when an event says so: a file changed (after a quiet
/// period), or a schedule came due — the "other events, such as the passing of time".
///
/// Each file `F` is saved to `F.coffer` beside it, replacing the previous container. Hidden files,
/// containers and Coffer's own temporary files are never saved. The session is read from disk for
/// every save, so a `coffer login` in another terminal renews it without restarting the watch.
public struct AutoSaver: Sendable {
    /// Makes the files API afresh for each save (the session may have been renewed).
    let files: @Sendable () throws -> SecureFiles
    let directory: String
    let log: @Sendable (String) -> Void

    public init(directory: String, log: @escaping @Sendable (String) -> Void, files: @escaping @Sendable () throws -> SecureFiles) {
        self.directory = directory
        self.log = log
        self.files = files
    }

    /// Whether a file name in the folder is one to save.
    public static func isCandidate(_ name: String) -> Bool {
        !name.hasPrefix(".") && !name.hasSuffix(".coffer") && !name.contains("coffer-tmp")
    }

    /// Watches for changes and saves each changed file once it has been quiet for `debounce`.
    /// With `every`, also saves on that schedule every file changed since its container was written.
    public func run(debounce: Duration, every: Duration?) async throws {
        let watcher = try DirectoryWatcher(directory: directory)
        defer { watcher.stop() }
        log("watching \(directory) for changes\(every.map { ", and saving on a schedule every \($0)" } ?? "")")
        let pending = PendingChanges()
        await saveStale(pending)
        let events = watcher.events()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await name in events {
                    if let name {
                        if Self.isCandidate(name) { await pending.touch(name) }
                    } else {
                        await saveStale(pending)
                    }
                }
                throw ClientError(.noInput, "\(directory) went away; stopped watching")
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: .milliseconds(100))
                    for name in await pending.quiet(for: debounce) { await save(name, pending: pending) }
                }
            }
            if let every {
                group.addTask {
                    while true {
                        try await Task.sleep(for: every)
                        await saveStale(pending)
                    }
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Saves every candidate file whose container is missing or older than the file.
    func saveStale(_ pending: PendingChanges) async {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names.sorted() where Self.isCandidate(name) {
            let path = directory + "/" + name
            guard let modified = Self.modificationTime(path) else { continue }
            if let sealed = Self.modificationTime(path + ".coffer"), sealed >= modified { continue }
            await save(name, pending: pending)
        }
    }

    /// Saves one file. When the key service asks to wait (a rate limit, a busy or degraded
    /// service), the watch pauses for that long and tries the file again, so a burst of changes is
    /// saved in the end rather than dropped.
    func save(_ name: String, pending: PendingChanges) async {
        let path = directory + "/" + name
        guard Self.modificationTime(path) != nil else { return }
        do {
            let result = try await files().save(input: path, output: path + ".coffer", force: true)
            log("saved \(name) → \(name).coffer (record \(result.recordID), \(result.size) bytes)")
        } catch let error as ClientError {
            guard let seconds = error.retryAfter else {
                log("could not save \(name): \(error.message)")
                return
            }
            log("could not save \(name) yet: \(error.message); pausing \(seconds) s, then trying again")
            try? await Task.sleep(for: .seconds(seconds))
            await pending.touch(name)
        } catch {
            log("could not save \(name): \(error)")
        }
    }

    static func modificationTime(_ path: String) -> Date? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
    }
}

/// Files that changed, with when they last changed.
actor PendingChanges {
    private var changed: [String: ContinuousClock.Instant] = [:]

    func touch(_ name: String) { changed[name] = .now }

    /// The files that have not changed for `quiet`; they are removed from the set.
    func quiet(for quiet: Duration) -> [String] {
        let now = ContinuousClock.now
        let ready = changed.filter { now - $0.value >= quiet }.map(\.key).sorted()
        for name in ready { changed[name] = nil }
        return ready
    }
}
