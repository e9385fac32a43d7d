import CofferTesting
import Foundation

/// Saves and retrieves that run while a test changes the deployment under them (a rotation, a
/// rolling restart), noting every request that failed and every file saved.
final class SaveRetrieveLoad: Sendable {
    /// What the load saw.
    actor Results {
        var failures: [String] = []
        var operations = 0
        var saved: [(file: String, content: Data)] = []
        func failed(_ what: String) { failures.append(what) }
        func done() { operations += 1 }
        func kept(_ file: String, _ content: Data) { saved.append((file, content)) }
    }

    let results = Results()
    private let running = TestFlag()
    private let task: Task<Void, any Error>

    /// Starts saving `WORK/during-N.txt` as `user`, each save followed by a retrieve of the
    /// container `reopen(N)` names (by default the one just saved).
    init(_ deployment: LocalDeployment, user: String, work: String, reopen: (@Sendable (Int) -> String)? = nil) {
        let (results, running) = (self.results, self.running)
        task = Task {
            var n = 0
            while !running.isSet {
                let file = "\(work)/during-\(n).txt"
                let content = Data("during \(n) \(UUID())".utf8)
                try content.write(to: URL(fileURLWithPath: file))
                let saved = try await deployment.coffer(["save", file], user: user)
                if saved.status == 0 { await results.kept(file, content) } else { await results.failed("save \(n): \(saved.stderr)") }
                let container = reopen?(n) ?? file + ".coffer"
                let retrieved = try await deployment.coffer(["retrieve", container, "-o", "\(work)/out-\(n)", "--force"], user: user)
                if retrieved.status != 0 { await results.failed("retrieve \(n): \(retrieved.stderr)") }
                await results.done()
                n += 1
            }
        }
    }

    /// Stops after the operation in progress; returns what failed and how many operations ran.
    func stop() async throws -> (failures: [String], operations: Int) {
        running.set()
        try await task.value
        return (await results.failures, await results.operations)
    }
}
