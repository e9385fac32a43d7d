public import Logging

/// Logs refused tier-link handshakes without flooding the log: the first refusal from a peer
/// address in an interval is logged at once, the rest of the interval's are counted, and when the
/// interval ends one line says how many more there were — as the audit log summarises failed logins.
///
/// The table of peers is bounded: beyond ``maxPeers`` addresses in one interval, the others are
/// counted together.
public struct RefusalLog: Sendable {
    /// The summary interval.
    public let interval: Duration
    /// The most peer addresses counted apart in one interval.
    public let maxPeers: Int
    /// Where peers beyond ``maxPeers`` are counted.
    public static let otherPeers = "other peers"

    private struct Peer {
        var since: ContinuousClock.Instant
        var more = 0
        var reasons: Set<String> = []
    }

    private var peers: [String: Peer] = [:]

    public init(interval: Duration = .seconds(60), maxPeers: Int = 1_024) {
        self.interval = interval
        self.maxPeers = maxPeers
    }

    /// Notes a refused handshake from `peer`; logs it if it is the peer's first in the interval.
    public mutating func refused(peer: String, reason: String, metadata: Logger.Metadata = [:], now: ContinuousClock.Instant, logger: Logger) {
        flush(now: now, logger: logger)
        let key = peers[peer] != nil || peers.count < maxPeers ? peer : Self.otherPeers
        if peers[key] == nil {
            peers[key] = Peer(since: now)
            var fields = metadata
            fields["coffer.peer"] = "\(key)"
            logger.warning("refused a tier-link peer: \(reason); further refusals from it are summarised every \(interval)", metadata: fields)
        } else {
            peers[key]?.more += 1
            peers[key]?.reasons.insert(reason)
        }
    }

    /// Ends the intervals that are over, logging one summary for each peer refused again in it.
    public mutating func flush(now: ContinuousClock.Instant, logger: Logger) {
        for (peer, state) in peers where now - state.since >= interval {
            peers[peer] = nil
            guard state.more > 0 else { continue }
            logger.warning("refused \(state.more) more tier-link handshakes from \(peer) in \(interval)", metadata: [
                "coffer.peer": "\(peer)", "coffer.refused": "\(state.more)", "coffer.reason": "\(state.reasons.sorted().joined(separator: "; "))",
            ])
        }
    }
}
