import CofferAPI
import CofferTierLink
import CofferWire
import Foundation
import Logging
import Metrics

/// The background half of a KEK rotation: moves every decode key (and staged re-seal key) that
/// another KEK wrapped to the current one, in batches, until none is left.
///
/// Resumable by construction: each pass asks the database tier for the keys not yet in the
/// current KEK's form, so a restarted process carries on where the store stands. Each key is
/// replaced only if it is still the one listed (a re-seal or a delete in between wins), and each
/// batch is one `key_rewrap` audit entry. Several processes may run it at once: they only repeat
/// work. A key that opens under none of the KEKs is left as it is and logged.
struct KeyRewrapper: Sendable {
    struct Policy: Sendable {
        /// Keys per batch; 0 turns the rewrap off.
        var batch = 100
        /// The pause between batches, so that the rotation yields to requests.
        var pause: Duration = .milliseconds(200)
    }

    let keys: any KeyBackend
    let database: any DatabaseCalling
    let policy: Policy
    let logger: Logger

    private static let rewrapped = Counter(label: "coffer_kek_rewrapped_total")

    /// Runs until every key it can move is under the current KEK, or the task is cancelled.
    func run() async {
        guard policy.batch > 0, let tag = keys.kekTag, let keks = keys.keks, !keks.unwrapOnly.isEmpty else { return }
        logger.notice("moving decode keys to the current KEK", metadata: ["coffer.kek": "\(keks.current)", "coffer.kek_unwrap_only": "\(keks.unwrapOnly.joined(separator: ","))"])
        var total = 0
        var skipped = Set<[UInt8]>()
        while !Task.isCancelled {
            var cursor: [UInt8] = []
            var movedThisPass = 0
            while !Task.isCancelled {
                let candidates: [Coffer_Wire_V1_RewrapCandidate]
                do {
                    guard case .rewrapCandidates(let answer) = try await database.call(
                        WireMessages.listRewrapCandidates(currentTag: tag, after: cursor, limit: policy.batch)
                    ) else { throw DatabaseLinkError.unavailable("an unexpected answer") }
                    candidates = answer.candidates
                } catch {
                    logger.warning("the KEK rotation waits for the database tier", metadata: ["coffer.error": "\(error)"])
                    try? await Task.sleep(for: .seconds(5))
                    continue
                }
                guard let last = candidates.last else { break }
                cursor = Array(last.recordID)
                var rewraps: [Coffer_Wire_V1_KeyRewrap] = []
                for candidate in candidates {
                    if let change = await rewrap(candidate, skipped: &skipped) { rewraps.append(change) }
                }
                if !rewraps.isEmpty {
                    do {
                        guard case .rewrapped(let done) = try await database.call(
                            WireMessages.rewrapKeys(rewraps, kekID: keks.current, source: "transaction tier (KEK rotation)")
                        ) else { throw DatabaseLinkError.unavailable("an unexpected answer") }
                        movedThisPass += Int(done.moved)
                        total += Int(done.moved)
                        Self.rewrapped.increment(by: Int64(done.moved))
                        logger.info("moved decode keys to the current KEK", metadata: ["coffer.moved": "\(done.moved)", "coffer.total": "\(total)"])
                    } catch {
                        logger.warning("a KEK rotation batch failed; it is tried again", metadata: ["coffer.error": "\(error)"])
                        cursor = []
                    }
                }
                try? await Task.sleep(for: policy.pause)
            }
            if movedThisPass == 0 { break }
        }
        logger.notice("every decode key this process can open is under the current KEK; check with coffer-admin keys status before retiring the others",
                      metadata: ["coffer.total": "\(total)", "coffer.kek": "\(keks.current)", "coffer.left_as_they_are": "\(skipped.count)"])
    }

    /// The candidate's keys wrapped again, or `nil` when none of them could be.
    private func rewrap(_ candidate: Coffer_Wire_V1_RewrapCandidate, skipped: inout Set<[UInt8]>) async -> Coffer_Wire_V1_KeyRewrap? {
        let id = Array(candidate.recordID)
        guard !skipped.contains(id) else { return nil }
        var change = Coffer_Wire_V1_KeyRewrap()
        change.recordID = candidate.recordID
        do {
            let keys = self.keys
            if !candidate.wrapped.isEmpty, let new = try await keys.perform({
                try keys.rewrap(Array(candidate.wrapped), recordID: id, owner: candidate.owner, encodeKeyID: Array(candidate.encodeKeyID))
            }) {
                change.oldWrapped = candidate.wrapped
                change.newWrapped = Data(new)
            }
            if !candidate.pendingWrapped.isEmpty, let new = try await keys.perform({
                try keys.rewrap(Array(candidate.pendingWrapped), recordID: id, owner: candidate.owner, encodeKeyID: Array(candidate.pendingEncodeKeyID))
            }) {
                change.oldPending = candidate.pendingWrapped
                change.newPending = Data(new)
            }
        } catch {
            skipped.insert(id)
            logger.error("a decode key opens under none of this process's KEKs; it is left as it is", metadata: [
                "coffer.record": "\(RecordID.text(id) ?? "?")", "coffer.error": "\(error)",
            ])
            return nil
        }
        return change.newWrapped.isEmpty && change.newPending.isEmpty ? nil : change
    }
}
