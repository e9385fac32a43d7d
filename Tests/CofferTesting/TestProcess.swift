import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, its output captured in files, reaped without
/// blocking a Swift concurrency thread.
public final class TestProcess: @unchecked Sendable {
    public let pid: Int32
    public let stdoutPath: String
    public let stderrPath: String
    public private(set) var exitStatus: Int32?

    /// Starts `executable` with `arguments`; `stdin` (if any) is written to its standard input.
    public init(_ executable: String, _ arguments: [String], environment: [String: String], stdin: [UInt8]? = nil, logDirectory: String) throws {
        let name = URL(fileURLWithPath: executable).lastPathComponent + "-" + UUID().uuidString.prefix(8)
        stdoutPath = "\(logDirectory)/\(name).out"
        stderrPath = "\(logDirectory)/\(name).err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var inputPipe: [Int32] = [-1, -1]
        if stdin != nil {
            guard pipe(&inputPipe) == 0 else { throw TestError("pipe failed") }
            posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
            posix_spawn_file_actions_addclose(&actions, inputPipe[1])
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard rc == 0 else { throw TestError("cannot start \(executable): \(String(cString: strerror(rc)))") }
        self.pid = pid
        if let stdin {
            close(inputPipe[0])
            stdin.withUnsafeBytes { _ = write(inputPipe[1], $0.baseAddress, $0.count) }
            close(inputPipe[1])
        }
    }

    /// Sends `signal` to the process.
    public func signal(_ signal: Int32) {
        if exitStatus == nil { kill(pid, signal) }
    }

    /// Waits for the process to exit, polling without blocking; kills it after `timeout`.
    @discardableResult
    public func wait(timeout: Duration = .seconds(60)) async throws -> Int32 {
        if let exitStatus { return exitStatus }
        let deadline = ContinuousClock.now + timeout
        while true {
            var status: Int32 = 0
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid {
                let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
                exitStatus = code
                return code
            }
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                throw TestError("\(stdoutPath) did not exit within \(timeout); killed")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Whether the process is still running.
    public var isRunning: Bool {
        if exitStatus != nil { return false }
        var status: Int32 = 0
        let rc = waitpid(pid, &status, WNOHANG)
        if rc == pid {
            exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
            return false
        }
        return true
    }

    /// Stops the process with SIGTERM, then SIGKILL after `grace`.
    public func stop(grace: Duration = .seconds(10)) async {
        signal(SIGTERM)
        if (try? await wait(timeout: grace)) == nil { signal(SIGKILL); _ = try? await wait(timeout: .seconds(5)) }
    }

    /// Sends SIGKILL and reaps the process; returns at once because a killed process exits at once.
    public func killAndReap() {
        guard exitStatus == nil else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        exitStatus = 128 + SIGKILL
    }

    public var standardOutput: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    public var standardError: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
}

/// A failure in the test harness itself.
public struct TestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
