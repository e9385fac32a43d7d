import CofferAPI
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// What holding many idle connections cost the transaction process, and how a save fared meanwhile.
struct IdleConnectionsResult: Codable {
    var requested: Int
    var held: Int
    var refused: Int
    var serverRSSBeforeKiB: Int
    var serverRSSAfterKiB: Int
    var kibPerConnection: Double
    /// Saves made on a fresh connection while the idle ones were held.
    var savesWhileHeld: Int
    var saveP50Ms: Double
    var saveMaxMs: Double
    var firstRefusal: String?
}

/// Opens `count` TLS connections to one transaction process, each completing its handshake and one
/// `GET /v1/live`, then holds them idle while timing saves on another connection.
struct IdleConnections {
    let host: String
    let port: Int
    let sslContext: NIOSSLContext
    let account: BenchAccount
    let count: Int
    let serverPID: Int32
    let saves: Int

    func run() async throws -> IdleConnectionsResult {
        let before = Self.residentKiB(of: serverPID)
        let opened = Counter()
        let release = Gate()
        // At most 200 handshakes at a time, so that they do not time out behind each other.
        let handshakes = Slots(200)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<count {
                group.addTask {
                    await handshakes.acquire()
                    let channel: KeepAliveConnection.Channel
                    do {
                        channel = try await KeepAliveConnection.connect(host: host, port: port, sslContext: sslContext)
                    } catch {
                        await opened.add(.refused("\(error)"))
                        await handshakes.release()
                        return
                    }
                    try? await channel.executeThenClose { inbound, outbound in
                        var connection = KeepAliveConnection(inbound: inbound, outbound: outbound, host: "\(host):\(port)")
                        let reply = try? await connection.send(.GET, "/v1/live", headers: [], body: [])
                        await opened.add(reply?.status == 200 ? .held : .refused(reply.map { "HTTP \($0.status)" } ?? "closed before answering"))
                        await handshakes.release()
                        await release.wait()
                    }
                }
            }
            await opened.waitFor(count)
            try await Task.sleep(for: .seconds(2))
            let after = Self.residentKiB(of: serverPID)
            let held = await opened.held

            // A save on a fresh connection, while all of them are held.
            var latencies: [Double] = []
            let channel = try await KeepAliveConnection.connect(host: host, port: port, sslContext: sslContext)
            try await channel.executeThenClose { inbound, outbound in
                var connection = KeepAliveConnection(inbound: inbound, outbound: outbound, host: "\(host):\(port)")
                for serial in 0..<saves {
                    let began = ContinuousClock.now
                    let _: SaveResponse = try await account.call("/v1/save", body: LoadRun.saveRequest(index: -1, serial: serial), over: &connection)
                    let elapsed = (ContinuousClock.now - began).components
                    latencies.append(Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15)
                }
            }
            await release.open()
            try await group.waitForAll()
            latencies.sort()
            let refusals = await opened.refusals
            return IdleConnectionsResult(
                requested: count, held: held, refused: refusals.count,
                serverRSSBeforeKiB: before, serverRSSAfterKiB: after,
                kibPerConnection: held > 0 ? Double(after - before) / Double(held) : 0,
                savesWhileHeld: latencies.count,
                saveP50Ms: latencies.isEmpty ? 0 : latencies[latencies.count / 2],
                saveMaxMs: latencies.last ?? 0,
                firstRefusal: refusals.first
            )
        }
    }

    /// `VmRSS` of a process, in KiB (0 when it cannot be read).
    static func residentKiB(of pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}

/// Counts connections held and the reasons of those refused.
actor Counter {
    enum Outcome { case held, refused(String) }
    private(set) var held = 0
    private(set) var refusals: [String] = []
    private var waiter: (count: Int, continuation: CheckedContinuation<Void, Never>)?

    func add(_ outcome: Outcome) {
        switch outcome {
        case .held: held += 1
        case .refused(let why): refusals.append(why)
        }
        if let waiter, held + refusals.count >= waiter.count {
            waiter.continuation.resume()
            self.waiter = nil
        }
    }

    /// Waits until `count` outcomes are in.
    func waitFor(_ count: Int) async {
        if held + refusals.count >= count { return }
        await withCheckedContinuation { waiter = (count, $0) }
    }
}

/// A one-way gate: waiters pass once it is opened.
actor Gate {
    private var isOpen = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func open() {
        isOpen = true
        for waiter in waiting { waiter.resume() }
        waiting.removeAll()
    }

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiting.append($0) }
    }
}

/// A counting semaphore for tasks.
actor Slots {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = count }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            free += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
