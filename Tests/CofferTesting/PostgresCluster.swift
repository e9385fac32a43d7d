import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL primary with a synchronous streaming standby, for fault tests.
///
/// Runs the server binaries as the `postgres` user when the tests run as root (PostgreSQL refuses
/// root). The standby is made with `pg_basebackup -R` and named in the primary's
/// `synchronous_standby_names`, so a commit is acknowledged only once the standby has it.
public final class PostgresCluster: @unchecked Sendable {
    public struct Node: Sendable {
        public let name: String
        public let port: Int
        public let dataDirectory: String
    }

    public let directory: String
    public private(set) var nodes: [Node] = []
    /// The node that accepts writes now.
    public private(set) var primary: Int = 0
    let bin: String
    let asPostgres: Bool

    /// The libpq URL naming every node, for `target_session_attrs=read-write` to find the primary.
    public var url: String {
        "postgresql://coffer@" + nodes.map { "127.0.0.1:\($0.port)" }.joined(separator: ",") + "/coffer?target_session_attrs=read-write&connect_timeout=2"
    }

    /// Whether the standby is a synchronous one now, as the primary sees it.
    public func standbyIsSynchronous() async throws -> Bool {
        let process = try run(bin + "/psql", ["-h", "127.0.0.1", "-p", "\(nodes[primary].port)", "-U", "coffer", "-d", "coffer", "-At",
                                              "-c", "SELECT sync_state FROM pg_stat_replication"], asPostgres: asPostgres)
        _ = try await process.wait(timeout: .seconds(30))
        return process.standardOutput.contains("sync")
    }

    /// Creates the primary and its synchronous standby, both running; with `standby: false` the
    /// primary alone, and with `archive` it copies each finished WAL segment to ``archiveDirectory``.
    public static func start(standby: Bool = true, archive: Bool = false) async throws -> PostgresCluster {
        let cluster = try PostgresCluster()
        do {
            try await cluster.createPrimary(archive: archive)
            if standby { try await cluster.createStandby() }
        } catch {
            cluster.stop()
            throw error
        }
        return cluster
    }

    private init() throws {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.sorted(by: { $0.compare($1, options: .numeric) == .orderedAscending }).last else {
            throw TestError("PostgreSQL server binaries are not installed (scripts/install-deps --with-tests)")
        }
        bin = "/usr/lib/postgresql/\(version)/bin"
        asPostgres = getuid() == 0
        directory = try TestEnvironment.makeTemporaryDirectory("pgcluster")
        if asPostgres {
            do {
                try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: directory)
            } catch {
                throw TestError("cannot give \(directory) to the postgres user (scripts/test creates it): \(error)")
            }
        }
    }

    /// Where the primary archives its WAL when started with `archive`.
    public var archiveDirectory: String { directory + "/wal-archive" }

    private func createPrimary(archive: Bool) async throws {
        let node = Node(name: "primary", port: try TestEnvironment.freePort(), dataDirectory: directory + "/primary")
        try await pg("initdb", ["-D", node.dataDirectory, "-A", "trust", "-U", "coffer", "--no-sync"])
        try append(node, """
            listen_addresses = '127.0.0.1'
            port = \(node.port)
            unix_socket_directories = '\(directory)'
            wal_level = replica
            max_wal_senders = 5
            synchronous_commit = on
            fsync = on
            """)
        if archive {
            try await pg("mkdir", ["-p", archiveDirectory], server: false, system: true)
            try append(node, """
                archive_mode = on
                archive_command = 'test ! -f \(archiveDirectory)/%f && cp %p \(archiveDirectory)/%f'
                """)
        }
        try appendHBA(node, "host replication coffer 127.0.0.1/32 trust\n")
        nodes.append(node)
        try await startNode(0)
        try await pg("createdb", ["-h", "127.0.0.1", "-p", "\(node.port)", "-U", "coffer", "coffer"], server: false)
    }

    private func createStandby() async throws {
        let node = Node(name: "standby", port: try TestEnvironment.freePort(), dataDirectory: directory + "/standby")
        try await pg("pg_basebackup", ["-h", "127.0.0.1", "-p", "\(nodes[0].port)", "-U", "coffer", "-D", node.dataDirectory, "-R", "-X", "stream", "-c", "fast",
                                       "-d", "application_name=standby"], server: false)
        try append(node, "port = \(node.port)\nwal_retrieve_retry_interval = 200ms\n")
        nodes.append(node)
        try await startNode(1)
        // Only now that the standby streams: from here on a commit waits until the standby has it.
        try await pg("psql", ["-h", "127.0.0.1", "-p", "\(nodes[0].port)", "-U", "coffer", "-d", "coffer", "-v", "ON_ERROR_STOP=1", "-q",
                              "-c", "ALTER SYSTEM SET synchronous_standby_names = 'standby'", "-c", "SELECT pg_reload_conf()"], server: false)
    }

    /// Starts node `index` and waits until it accepts connections.
    public func startNode(_ index: Int) async throws {
        let node = nodes[index]
        try await pg("pg_ctl", ["-D", node.dataDirectory, "-l", node.dataDirectory + "/server.log", "-w", "-t", "30", "start"])
    }

    /// Kills node `index` at once (SIGKILL to the postmaster), as a crash would.
    public func crashNode(_ index: Int) async throws {
        let pidFile = nodes[index].dataDirectory + "/postmaster.pid"
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.split(separator: "\n").first ?? "") else { return }
        kill(pid, SIGKILL)
        for _ in 0..<100 where kill(pid, 0) == 0 { try await Task.sleep(for: .milliseconds(50)) }
        // The children notice the postmaster's death and exit; wait until the port is free.
        try await Task.sleep(for: .milliseconds(300))
    }

    /// Restarts the primary: a crash, then a start (crash recovery replays the WAL).
    public func restartPrimary() async throws {
        try await crashNode(primary)
        try await startNode(primary)
    }

    /// Crashes the primary and promotes the standby; the old primary stays down.
    public func failOver() async throws {
        let old = primary
        let standby = old == 0 ? 1 : 0
        try await crashNode(old)
        try await pg("pg_ctl", ["-D", nodes[standby].dataDirectory, "-w", "-t", "30", "promote"])
        primary = standby
    }

    /// Takes a base backup of the primary into a new folder (`pg_basebackup`, the WAL it needs
    /// streamed along) and returns its path.
    public func baseBackup() async throws -> String {
        let target = directory + "/base-\(UUID().uuidString.prefix(8))"
        try await pg("pg_basebackup", ["-h", "127.0.0.1", "-p", "\(nodes[primary].port)", "-U", "coffer", "-D", target, "-X", "stream", "-c", "fast"], server: false)
        return target
    }

    /// Runs one SQL statement on the primary as the `coffer` role; returns what it printed.
    @discardableResult
    public func sql(_ statement: String) async throws -> String {
        let process = try run(bin + "/psql", ["-h", "127.0.0.1", "-p", "\(nodes[primary].port)", "-U", "coffer", "-d", "coffer", "-At",
                                              "-v", "ON_ERROR_STOP=1", "-c", statement], asPostgres: asPostgres)
        guard try await process.wait(timeout: .seconds(30)) == 0 else { throw TestError("psql failed: \(process.standardError)") }
        return process.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Loses the primary (a crash, its data folder deleted) and recovers it from `base` and the WAL
    /// archive up to the restore point `name`, then promotes it: point-in-time recovery.
    public func recover(from base: String, toRestorePoint name: String) async throws {
        try await crashNode(primary)
        let node = nodes[primary]
        try await pg("rm", ["-rf", node.dataDirectory], server: false, system: true)
        try await pg("cp", ["-a", base, node.dataDirectory], server: false, system: true)
        try append(node, """
            restore_command = 'cp \(archiveDirectory)/%f %p'
            recovery_target_name = '\(name)'
            recovery_target_action = 'promote'
            """)
        try await pg("touch", [node.dataDirectory + "/recovery.signal"], server: false, system: true)
        try await startNode(primary)
        for _ in 0..<200 {
            if (try? await sql("SELECT pg_is_in_recovery()")) == "f" { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestError("the recovered primary did not leave recovery")
    }

    /// Stops every node.
    public func stop() {
        for node in nodes {
            _ = try? run(bin + "/pg_ctl", ["-D", node.dataDirectory, "-m", "immediate", "stop"], asPostgres: asPostgres)
        }
    }

    private func append(_ node: Node, _ text: String) throws {
        let path = node.dataDirectory + "/postgresql.conf"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(("\n" + text + "\n").utf8))
        try handle.close()
    }

    private func appendHBA(_ node: Node, _ text: String) throws {
        let path = node.dataDirectory + "/pg_hba.conf"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        try handle.close()
    }

    /// Runs a PostgreSQL tool (or, with `system`, a command of /usr/bin or /bin) as the cluster's user.
    private func pg(_ tool: String, _ arguments: [String], server: Bool = true, system: Bool = false) async throws {
        let executable = system ? (FileManager.default.isExecutableFile(atPath: "/usr/bin/" + tool) ? "/usr/bin/" : "/bin/") + tool : bin + "/" + tool
        let process = try run(executable, arguments, asPostgres: asPostgres)
        guard try await process.wait(timeout: .seconds(60)) == 0 else {
            throw TestError("\(tool) failed: \(process.standardError)\(process.standardOutput)")
        }
    }

    private func run(_ executable: String, _ arguments: [String], asPostgres: Bool) throws -> TestProcess {
        let (command, args) = asPostgres ? ("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments) : (executable, arguments)
        return try TestProcess(command, args, environment: ["PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "5"], logDirectory: directory)
    }
}
