import HTTPTypes
public import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Bounds the CPU that password hashing may take, so that a flood of logins or registrations, from
/// however many addresses and for however many accounts, cannot starve saves and retrievals.
///
/// At most ``Policy/concurrent`` derivations run at once (by default half the cores), at most
/// ``Policy/waiting`` more wait their turn in order, and any beyond that are refused at once with
/// 503 `busy`. A refused attempt checked no password, so it is not charged as a failure; refusals
/// are counted, and the service audits the count in one `rate_limited` entry every few seconds.
public final class PasswordWorkGate: Sendable {
    /// How much password work may run and wait.
    public struct Policy: Sendable {
        /// Derivations at once.
        public var concurrent: Int
        /// Attempts waiting for a derivation slot before further ones are refused.
        public var waiting: Int
        /// `concurrent` defaults to half the cores.
        public init(concurrent: Int? = nil, waiting: Int = 16) {
            self.concurrent = max(1, concurrent ?? System.coreCount / 2)
            self.waiting = max(0, waiting)
        }
    }

    private struct State {
        var running = 0
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var refusedSinceLog = 0
        var refusedSinceAudit = 0
        var lastLog: ContinuousClock.Instant?
    }

    let policy: Policy
    private let state = Mutex(State())
    private let logger: Logger

    public init(policy: Policy, logger: Logger) {
        self.policy = policy
        self.logger = logger
    }

    /// Runs `work` on NIO's thread pool once a slot is free; throws 503 `busy` if too many wait already.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await NIOThreadPool.singleton.runIfActive(work)
    }

    /// Attempts running and waiting now.
    public var load: (running: Int, waiting: Int) {
        state.withLock { ($0.running, $0.waiters.count) }
    }

    /// Attempts refused since the last call, which resets the count.
    public func drainRefusals() -> Int {
        state.withLock { s in
            defer { s.refusedSinceAudit = 0 }
            return s.refusedSinceAudit
        }
    }

    private func acquire() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enum Decision { case run, wait, refuse(report: Int?) }
            let decision: Decision = state.withLock { s in
                if s.running < policy.concurrent {
                    s.running += 1
                    return .run
                }
                if s.waiters.count < policy.waiting {
                    s.waiters.append(continuation)
                    return .wait
                }
                // A flood is logged at most every ten seconds, with the count since the last line.
                s.refusedSinceLog += 1
                s.refusedSinceAudit += 1
                let now = ContinuousClock.now
                if let last = s.lastLog, now - last < .seconds(10) { return .refuse(report: nil) }
                defer { s.refusedSinceLog = 0; s.lastLog = now }
                return .refuse(report: s.refusedSinceLog)
            }
            switch decision {
            case .run:
                continuation.resume()
            case .wait:
                break
            case .refuse(let report):
                if let report {
                    logger.warning("password checks refused: as many are running and waiting as allowed", metadata: [
                        "coffer.refused": "\(report)", "coffer.password_concurrent": "\(policy.concurrent)", "coffer.password_waiting": "\(policy.waiting)",
                    ])
                }
                continuation.resume(throwing: APIError(.serviceUnavailable, "busy", "the key service is checking as many passwords as it may; retry in a few seconds", retryAfter: 2))
            }
        }
    }

    private func release() {
        // A waiter inherits the slot, so `running` only drops when nobody waits.
        let next: CheckedContinuation<Void, any Error>? = state.withLock { s in
            if s.waiters.isEmpty {
                s.running -= 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}
