public import CofferAPI
import CofferTierLink
import CofferWire
import Foundation
public import Logging

/// The deployment as an operator checks it (`coffer-admin status`): the database tier and its
/// store, the audit log and its checkpoints, and each transaction process, each judged ok,
/// warning or critical.
public struct DeploymentStatus: Codable, Sendable {
    /// How bad a finding is; the worst one is the exit status (0, 1, 2, as monitoring plugins use).
    public enum Level: String, Codable, Sendable, Comparable {
        case ok, warning, critical
        public var exitCode: Int32 { self == .ok ? 0 : self == .warning ? 1 : 2 }
        public static func < (a: Level, b: Level) -> Bool { a.exitCode < b.exitCode }
    }

    /// One component's state.
    public struct Check: Codable, Sendable {
        public var component: String
        public var level: Level
        public var detail: String
    }

    public var checks: [Check] = []
    /// The database tier's store status, when it answered.
    public var store: Store?
    /// Each transaction process's own status, by its listener's address, when it answered.
    public var transactions: [String: TransactionProcessStatus] = [:]
    public var level: Level { checks.map(\.level).max() ?? .ok }

    /// The store as the database tier reports it.
    public struct Store: Codable, Sendable {
        public var kind: String
        public var schemaVersion: Int
        public var records: Int64
        public var auditEntries: Int64
        public var checkpointSize: Int64
        public var checkpointStoredAtMs: Int64?
        public var replication: String
        public var restoreIndexes: [Int64]
    }

    /// Asks the database tier at `database` (with the operator's CURVE key under `keysDirectory`)
    /// and each transaction process's listener in `transactions`; a checkpoint older than
    /// `staleCheckpoint` while newer entries wait is a warning.
    public static func probe(keysDirectory: String, database: String, transactions: [String], staleCheckpoint: Duration,
                             timeout: Duration, nowMs: Int64, logger: Logger) async -> DeploymentStatus {
        var status = DeploymentStatus()
        await status.probeDatabase(keysDirectory: keysDirectory, endpoint: database, staleCheckpoint: staleCheckpoint, timeout: timeout, nowMs: nowMs, logger: logger)
        for endpoint in transactions {
            await status.probeTransaction(endpoint, staleCheckpoint: staleCheckpoint, timeout: timeout, nowMs: nowMs)
        }
        if Set(status.transactions.values.map(\.identityKey)).count > 1 || Set(status.transactions.values.map(\.checkpointKey)).count > 1
            || Set(status.transactions.values.map { $0.kek ?? "" }).count > 1 {
            status.checks.append(Check(component: "keys", level: .warning,
                                       detail: "the transaction processes do not all use the same identity, checkpoint and key-encryption keys (a rotation in progress?)"))
        }
        return status
    }

    private mutating func probeDatabase(keysDirectory: String, endpoint: String, staleCheckpoint: Duration, timeout: Duration, nowMs: Int64, logger: Logger) async {
        let pong: Coffer_Wire_V1_Pong
        do {
            let link = try AdminLink.connect(keysDirectory: keysDirectory, endpoint: endpoint, timeout: timeout, logger: logger)
            defer { link.shutdown() }
            var ping = Coffer_Wire_V1_Ping()
            ping.withStatus = true
            guard case .pong(let answer) = try await link.call(.ping(ping)), answer.hasStatus else {
                checks.append(Check(component: "database \(endpoint)", level: .critical, detail: "an unexpected answer"))
                return
            }
            pong = answer
        } catch {
            checks.append(Check(component: "database \(endpoint)", level: .critical, detail: "unreachable: \(error)"))
            return
        }
        let s = pong.status
        let store = Store(kind: pong.store, schemaVersion: Int(pong.schemaVersion), records: s.records, auditEntries: s.auditEntries,
                          checkpointSize: s.checkpointSize, checkpointStoredAtMs: s.checkpointStoredMs == 0 ? nil : s.checkpointStoredMs,
                          replication: s.replication, restoreIndexes: s.restoreIndexes)
        self.store = store
        checks.append(Check(component: "database \(endpoint)", level: .ok, detail: "\(store.kind), schema \(store.schemaVersion), \(store.records) records"))
        checks.append(Check(component: "replication", level: store.replication.hasPrefix("standby") ? .critical : .ok, detail: store.replication))

        var audit = "\(store.auditEntries) entries; newest checkpoint \(store.checkpointSize) entries"
        var level = Level.ok
        let waiting = store.auditEntries - store.checkpointSize
        if let at = store.checkpointStoredAtMs {
            let age = Duration.milliseconds(max(0, nowMs - at))
            audit += ", stored \(Self.describe(age)) ago"
            if waiting > 0 && age > staleCheckpoint {
                level = .warning
                audit += "; \(waiting) newer entries have waited longer than \(Self.describe(staleCheckpoint)) for a checkpoint"
            }
        } else if store.auditEntries > 0 {
            level = .warning
            audit += "; none is stored yet"
        }
        if let restore = store.restoreIndexes.first { audit += "; restored from a backup at entry #\(restore)" }
        checks.append(Check(component: "audit log", level: level, detail: audit))
    }

    private mutating func probeTransaction(_ endpoint: String, staleCheckpoint: Duration, timeout: Duration, nowMs: Int64) async {
        let component = "transaction \(endpoint)"
        let body: String
        switch await StatusPage.fetch(endpoint, timeout: timeout) {
        case .failure(let error):
            checks.append(Check(component: component, level: .critical, detail: "\(error)"))
            return
        case .success(let text): body = text
        }
        guard let process = try? JSONDecoder().decode(TransactionProcessStatus.self, from: Data(body.utf8)) else {
            checks.append(Check(component: component, level: .critical, detail: "its status is not the expected JSON"))
            return
        }
        transactions[endpoint] = process
        var level: Level = process.ready ? .ok : .critical
        var detail = (process.ready ? "ready (\(process.detail))" : "not ready: \(process.detail)")
        if process.audit != "ok" {
            level = .critical
            detail += "; audit \(process.audit)"
        }
        if let at = process.checkpointAtMs, let size = process.checkpointSize {
            let age = Duration.milliseconds(max(0, nowMs - at))
            detail += "; checkpoint of \(size) entries \(Self.describe(age)) ago"
            if age > staleCheckpoint, let store, store.auditEntries > size {
                level = max(level, .warning)
                detail += " (stale)"
            }
        }
        detail += "; keys: \(process.keyBackend), identity \(process.identityKey.prefix(23))…, checkpoint key \(process.checkpointKey.split(separator: "+").prefix(2).joined(separator: "+"))"
        if let kek = process.kek {
            detail += "; KEK \(kek)" + ((process.kekUnwrapOnly ?? []).isEmpty ? "" : " (also opens with \((process.kekUnwrapOnly ?? []).joined(separator: ", ")))")
        }
        if let next = process.identityKeyNext, let from = process.identityKeyFromMs {
            detail += "; identity key \(next.prefix(23))… takes over at \(Date(timeIntervalSince1970: Double(from) / 1000).formatted(.iso8601))"
        }
        if let restore = process.acceptRestore { detail += "; accepts the restore at entry #\(restore)" }
        checks.append(Check(component: component, level: level, detail: detail))
    }

    static func describe(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        return seconds < 120 ? "\(seconds) s" : seconds < 7_200 ? "\(seconds / 60) min" : "\(seconds / 3_600) h"
    }
}
