import CofferAPI
import Foundation
import Histogram
import NIOCore
import NIOSSL

/// What one load level measured.
struct LoadResult: Codable {
    var operation: String
    var clients: Int
    var seconds: Double
    var completed: Int
    var failed: Int
    var perSecond: Double
    var p50Ms: Double
    var p99Ms: Double
    var p999Ms: Double
    var maxMs: Double
    /// The first few failures, as the service worded them.
    var failures: [String]
}

/// Runs `clients` concurrent clients, each on its own keep-alive TLS connection, doing complete
/// saves or complete retrieves back to back, and records every latency in an HdrHistogram.
///
/// A complete save is one `/v1/save` (session, device signature, key pair, RFC 3161 receipt, KEK
/// wrap, the database tier's durable commit and audit entry). A complete retrieve is what
/// `coffer retrieve` asks of the service: `/v1/retrieve` and then `/v1/reseal`.
struct LoadRun {
    enum Operation: String, CaseIterable {
        case save, retrieve
    }

    /// The transaction processes; client *i* uses endpoint *i* mod their count.
    let endpoints: [Endpoint]
    let sslContext: NIOSSLContext
    let accounts: [BenchAccount]
    let operation: Operation
    let clients: Int
    let warmup: Duration
    let duration: Duration

    func run() async throws -> LoadResult {
        let barrier = Barrier(count: clients)
        var merged = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)
        var completed = 0, failed = 0
        var failures: [String] = []
        try await withThrowingTaskGroup(of: ClientTally.self) { group in
            for index in 0..<clients {
                group.addTask { try await runClient(index: index, barrier: barrier) }
            }
            for try await tally in group {
                merged.add(tally.histogram)
                completed += tally.completed
                failed += tally.failed
                failures += tally.failures.prefix(max(0, 3 - failures.count))
            }
        }
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        let ms = { (value: UInt64) in Double(value) / 1000 }
        return LoadResult(
            operation: operation.rawValue, clients: clients, seconds: seconds, completed: completed, failed: failed,
            perSecond: Double(completed) / seconds,
            p50Ms: ms(merged.valueAtPercentile(50)), p99Ms: ms(merged.valueAtPercentile(99)),
            p999Ms: ms(merged.valueAtPercentile(99.9)), maxMs: ms(merged.max), failures: failures
        )
    }

    private struct ClientTally: Sendable {
        var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)
        var completed = 0
        var failed = 0
        var failures: [String] = []
    }

    private func runClient(index: Int, barrier: Barrier) async throws -> ClientTally {
        let endpoint = endpoints[index % endpoints.count]
        let channel = try await KeepAliveConnection.connect(host: endpoint.host, port: endpoint.port, sslContext: sslContext)
        let account = accounts[index % accounts.count]
        return try await channel.executeThenClose { inbound, outbound in
            var connection = KeepAliveConnection(inbound: inbound, outbound: outbound, host: endpoint.description)
            var record: (id: String, receipt: Receipt)?
            if operation == .retrieve {
                let saved: SaveResponse = try await account.call("/v1/save", body: Self.saveRequest(index: index, serial: -1), over: &connection)
                record = (saved.recordID, saved.receipt)
            }
            let start = await barrier.arrive()
            let measureFrom = start + warmup
            let deadline = measureFrom + duration
            var tally = ClientTally()
            var serial = 0
            while true {
                let began = ContinuousClock.now
                if began >= deadline { break }
                serial += 1
                do {
                    switch operation {
                    case .save:
                        let _: SaveResponse = try await account.call("/v1/save", body: Self.saveRequest(index: index, serial: serial), over: &connection)
                    case .retrieve:
                        let current = record!
                        let opened: RetrieveResponse = try await account.call(
                            "/v1/retrieve", body: RetrieveRequest(recordID: current.id, fileName: current.receipt.fileName, token: current.receipt.token,
                                                                  sha256: current.receipt.sha256, size: current.receipt.size), over: &connection
                        )
                        guard let offer = opened.reseal else { throw BenchError("the service offered no re-seal") }
                        let _: RecordChangeResponse = try await account.call(
                            "/v1/reseal", body: RecordRequest(recordID: current.id, token: offer.receipt.token), over: &connection
                        )
                        record = (current.id, offer.receipt)
                    }
                    let ended = ContinuousClock.now
                    if began >= measureFrom && ended <= deadline {
                        let micros = (ended - began).components
                        _ = tally.histogram.record(UInt64(micros.seconds) * 1_000_000 + UInt64(micros.attoseconds / 1_000_000_000_000))
                        tally.completed += 1
                    }
                } catch let error as BenchError {
                    if began >= measureFrom { tally.failed += 1 }
                    if tally.failures.count < 3 { tally.failures.append(error.description) }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            return tally
        }
    }

    static func saveRequest(index: Int, serial: Int) -> SaveRequest {
        let digest = (0..<32).map { _ in UInt8.random(in: 0...255) }
        return SaveRequest(fileName: "bench-\(index)-\(serial).bin", sha256: Hex.encode(digest), size: 1 << 20)
    }
}

/// Lets every client start measuring at the same instant, once all are connected and ready.
actor Barrier {
    private let count: Int
    private var waiting: [CheckedContinuation<ContinuousClock.Instant, Never>] = []

    init(count: Int) { self.count = count }

    /// Waits until `count` callers have arrived; returns the instant the last one did.
    func arrive() async -> ContinuousClock.Instant {
        await withCheckedContinuation { continuation in
            waiting.append(continuation)
            if waiting.count == count {
                let now = ContinuousClock.now
                for waiter in waiting { waiter.resume(returning: now) }
                waiting.removeAll()
            }
        }
    }
}
