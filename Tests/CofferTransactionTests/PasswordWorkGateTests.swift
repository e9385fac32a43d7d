import CofferTransaction
import Foundation
import Logging
import Synchronization
import Testing

@Suite struct PasswordWorkGateTests {
    /// Work that holds its slot until `open` is set, recording the most that ran at once.
    final class Probe: Sendable {
        let state = Mutex((running: 0, most: 0, open: false))
        func work() {
            state.withLock { $0.running += 1; $0.most = max($0.most, $0.running) }
            while !state.withLock({ $0.open }) { usleep(2_000) }
            state.withLock { $0.running -= 1 }
        }
    }

    @Test func beyondTheWorkersAndTheQueueAttemptsAreRefusedBusyAtOnce() async throws {
        let gate = PasswordWorkGate(policy: .init(concurrent: 2, waiting: 3), logger: Logger(label: "test"))
        let probe = Probe()
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<5 {
                group.addTask { try await gate.run { probe.work() }; return "ran" }
            }
            // Two run and three wait before any more arrive.
            while gate.load != (2, 3) { try await Task.sleep(for: .milliseconds(5)) }
            for _ in 0..<4 {
                group.addTask {
                    do {
                        try await gate.run { probe.work() }
                        return "ran"
                    } catch let error as APIError {
                        return "\(error.code) retry after \(error.retryAfter ?? 0)"
                    }
                }
            }
            var outcomes: [String] = []
            for _ in 0..<4 { outcomes.append(try await group.next() ?? "") }
            #expect(outcomes == Array(repeating: "busy retry after 2", count: 4), "refused while the gate was full, before anything finished")
            probe.state.withLock { $0.open = true }
            for try await outcome in group { outcomes.append(outcome) }
            #expect(outcomes.filter { $0 == "ran" }.count == 5)
        }
        #expect(probe.state.withLock { $0.most } == 2)
        #expect(gate.load == (0, 0), "every slot is given back")
    }
}
