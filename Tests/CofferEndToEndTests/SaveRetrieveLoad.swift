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

extension LocalDeployment {
    /// The transaction tier's flags for a rotation under load: no per-user limit (the load saves as
    /// fast as it can) and room for a request to wait out a restart.
    static let rotationArguments = ["--user-changes-per-hour", "0", "--database-timeout", "8"]

    /// A deployment for a rotation under load: two transaction processes (so either can restart while
    /// the other serves), `user` registered and logged in, and an empty work folder.
    static func forRotation(user: String, moreArguments: [String] = []) async throws -> (deployment: LocalDeployment, work: String) {
        let deployment = try await LocalDeployment.start(transactionArguments: rotationArguments + moreArguments)
        do {
            try await deployment.serveFromTwoTransactionProcesses()
            try await deployment.registerAndLogin(user)
            let work = deployment.directory + "/work"
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            return (deployment, work)
        } catch {
            deployment.terminate()
            throw error
        }
    }
}
