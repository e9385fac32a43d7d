@testable import CofferZMQ
import Foundation
import Logging
import Synchronization
import Testing

/// Keeps every log line, for tests that count them.
final class CapturedLog: Sendable {
    let lines = Mutex<[(Logger.Level, String, Logger.Metadata)]>([])

    var logger: Logger {
        Logger(label: "captured") { _ in Handler(log: self) }
    }

    var messages: [String] { lines.withLock { $0.map(\.1) } }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            log.lines.withLock { $0.append((event.level, event.message.description, event.metadata ?? [:])) }
        }
    }
}

@Suite struct RefusalLogTests {
    /// A ZAP request (RFC 27) from `address` presenting `key` under CURVE.
    func zapRequest(address: String, key: [UInt8]) -> [[UInt8]] {
        [Array("1.0".utf8), Array("1".utf8), [], Array(address.utf8), [], Array("CURVE".utf8), key]
    }

    @Test("300 refused handshakes from one address write one line at once and one summary after the interval, not 300 lines")
    func refusalsAreSummarised() async throws {
        let log = CapturedLog()
        let zap = ZAPAuthenticator(context: try ZMQContext(), allowedKeys: [try CurveKeyPair.generate().publicKey],
                                   refusalInterval: .milliseconds(300), logger: log.logger)
        let intruder = Array(repeating: UInt8(7), count: 32)
        for _ in 0..<300 {
            let reply = zap.answer(zapRequest(address: "10.9.8.7", key: intruder))
            #expect(String(decoding: reply[2], as: UTF8.self) == "400", "still refused")
        }
        _ = zap.answer([Array("1.0".utf8), Array("2".utf8), [], Array("10.9.8.6".utf8), [], Array("NULL".utf8)])
        #expect(zap.decisions.denied == 301)
        #expect(log.messages.count == 2, "one line per peer at first: \(log.messages)")
        try await Task.sleep(for: .milliseconds(350))
        _ = zap.answer(zapRequest(address: "10.9.8.7", key: intruder))
        let lines = log.messages
        #expect(lines.count == 4, "\(lines)")
        #expect(lines.contains { $0.contains("refused 299 more tier-link handshakes from 10.9.8.7") }, "\(lines)")
        #expect(!lines.contains { $0.contains("more tier-link handshakes from 10.9.8.6") }, "a peer refused once gets no summary")
    }

    @Test("beyond the bounded table, new peers are counted together")
    func boundedTable() {
        let log = CapturedLog()
        var refusals = RefusalLog(interval: .seconds(60), maxPeers: 2)
        let start = ContinuousClock.now
        for peer in 0..<50 {
            refusals.refused(peer: "10.0.0.\(peer)", reason: "key not on the allow list", now: start, logger: log.logger)
        }
        #expect(log.messages.count == 3, "two peers and the overflow: \(log.messages)")
        refusals.flush(now: start + .seconds(61), logger: log.logger)
        #expect(log.messages.last?.contains("refused 47 more tier-link handshakes from \(RefusalLog.otherPeers)") == true, "\(log.messages)")
    }
}
