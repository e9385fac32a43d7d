import ArgumentParser
import CofferAudit
import CofferStorage
import CofferText
import Foundation

/// `coffer-admin backup --store FILE DIR`: a consistent backup of the embedded store while the tier runs.
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Back up the embedded SQLite store, consistently, while the database tier runs.",
        discussion: """
            Run it on the database host as the database tier's user. Writes DIR/coffer.sqlite (SQLite's online
            backup API: one read transaction, so the copy is consistent whatever the tier does meanwhile), the
            central copies it names (each checked against its SHA-256) and, last, DIR/manifest.json: the time,
            the schema version and the audit log's size and root. A folder without a manifest is not a backup.
            Copy the folder off the host afterwards; it holds every wrapped decode key (docs/THREAT-MODEL.md).
            A PostgreSQL store is backed up with pg_basebackup and WAL archiving instead (docs/DEPLOYMENT.md, Backups).
            Exits 0 when the backup is whole, 74 when it could not be taken.
            """
    )

    @Option(help: "The SQLite store, as the database tier's `store` setting names it.")
    var store: String
    @Argument(help: "A new or empty folder to write the backup to.")
    var directory: String

    func run() throws {
        do {
            let manifest = try StoreBackup.take(of: StoreLocation(store), into: directory, nowMs: { nowMs() }, progress: progress)
            _ = try StoreBackup.check(directory)
            print("""
                backed up \(manifest.records) records, \(manifest.centralCopies) central copies (\(manifest.centralBytes) bytes) and \
                \(manifest.auditEntries) audit entries (root \(manifest.auditRoot.prefix(16))…) to \(directory); checked
                """)
        } catch {
            FileHandle.standardError.write(Data("coffer-admin: backup failed: \(DisplayText.terminal("\(error)"))\n".utf8))
            throw ExitCode(74)
        }
    }
}

/// `coffer-admin restore`: replaces the store with a backup, or marks one PostgreSQL restored; audited.
struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore the store from a backup: an explicit, audited act that clients can tell from tampering.",
        discussion: """
            Stop every coffer-database first; the restore refuses while one has the store open.

            With --from DIR (SQLite): checks the backup whole, sets the current store aside as
            STORE.replaced-TIME (never deleted), puts the backup in its place, and appends a `restore` audit entry
            that names the backup and how long the log was before. With --in-place: for a store restored by other
            means (PostgreSQL point-in-time recovery), appends only that entry; give --lost-entries if you know how
            long the log was (from your last export or a client's kept checkpoint).

            Either way every device's sessions end (users log in again: the backup forgot later logouts and password
            changes), and the entry's index is printed: start every transaction process once with
            `accept-restore INDEX` so that it signs checkpoints across the restore. Clients that had verified a
            newer checkpoint then report the restore, and the entries they saw that it lost, instead of a
            rewritten history. Containers saved or re-sealed after the backup do not open. docs/DEPLOYMENT.md, Restore.
            Exits 0 when restored, 75 when a database process still has the store, 74 when it failed.
            """
    )

    @Option(help: "The store, as the database tier's `store` setting names it.")
    var store: String
    @Option(help: "The backup folder to restore from (SQLite).")
    var from: String?
    @Flag(help: "The store was restored by other means: only record the restore.")
    var inPlace = false
    @Option(help: "With --in-place: how many entries the log held before it was lost, if known.")
    var lostEntries: Int64?
    @Option(help: "Why, for the audit entry (for example the incident's reference).")
    var note: String

    func validate() throws {
        if from == nil && !inPlace { throw ValidationError("give either --from DIR or --in-place") }
        if from != nil && inPlace { throw ValidationError("--from and --in-place exclude each other") }
        if lostEntries != nil && !inPlace { throw ValidationError("--lost-entries goes with --in-place (with --from it is read from the store replaced)") }
        guard !note.isEmpty, note.count <= 500, !note.unicodeScalars.contains(where: FileNameRule.isRefused) else {
            throw ValidationError("--note must be printable text of at most 500 characters")
        }
    }

    func run() throws {
        let location = StoreLocation(store)
        let outcome: StoreRestore.Outcome
        do {
            if let from {
                outcome = try StoreRestore.restore(from: from, to: location, note: note, operatorName: operatorName, nowMs: nowMs(), progress: progress)
            } else {
                outcome = try StoreRestore.markRestored(location, lostEntries: lostEntries, note: note, operatorName: operatorName, nowMs: nowMs())
            }
        } catch let error as StorageError where error.code == .locked {
            FileHandle.standardError.write(Data("coffer-admin: restore refused: \(DisplayText.terminal(error.message))\n".utf8))
            throw ExitCode(75)
        } catch {
            FileHandle.standardError.write(Data("coffer-admin: restore failed: \(DisplayText.terminal("\(error)"))\n".utf8))
            throw ExitCode(74)
        }
        let detail = outcome.detail
        let lost = detail.lostEntries.map { "\(max(0, $0 - detail.backupEntries)) entries after it were lost" } ?? "an unknown number of entries after it were lost"
        print("""
            restored the store to its backup of \(detail.backupEntries) audit entries; \(lost)
            \(outcome.setAside.map { "the store replaced is kept as \($0)\n" } ?? "")\
            ended the sessions of \(outcome.sessionsEnded) devices; users log in again
            the restore is audit entry \(outcome.restoreIndex): start every transaction process once with `accept-restore \(outcome.restoreIndex)`
            """)
    }
}

private func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

private func progress(_ line: String) {
    FileHandle.standardError.write(Data("coffer-admin: \(line)\n".utf8))
}
