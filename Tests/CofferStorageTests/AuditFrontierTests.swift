import CofferAudit
import CofferStorage
import CofferTesting
import Foundation
import Testing

/// What a store remembers of the audit log between appends is never trusted past a rollback or
/// another process's appends: the stored subtree hashes always match the leaves.
@Suite struct AuditFrontierTests {
    typealias Backend = RecordStoreTests.Backend

    struct Rollback: Error {}

    func event(_ n: Int) -> AuditEvent {
        AuditEvent(kind: "logout", user: "u\(n)", timeMs: Int64(n), source: "s")
    }

    /// The stored root against the root of the stored leaves, at every size.
    func verify(_ store: RecordStore) throws {
        let entries = try store.auditEntries(from: 0, limit: 1_000)
        #expect(entries.map(\.index) == Array(0..<Int64(entries.count)), "gapless")
        #expect(try store.auditTreeHead().size == Int64(entries.count))
        var memory = MemoryMerkleTree()
        for entry in entries { memory.append(leaf: entry.leaf) }
        #expect(try store.auditTreeHead().root == (try memory.rootHash()))
        for size in 1...entries.count {
            #expect(try store.auditProofs(treeSize: Int64(size), fromSizes: [], indexes: [], owner: nil) != nil)
        }
    }

    @Test("appends after a rolled-back savepoint, in the same transaction, hash with what is stored", arguments: RecordStoreTests.backends)
    func savepointRollback(backend: Backend) async throws {
        let store = try await AuditLogTests().open(backend).store
        try store.transaction(holdingAuditLock: true) {
            for n in 0..<3 { try store.audit(event(n)) }
            _ = try? store.transaction { () throws -> Void in
                try store.audit(event(3))
                try store.audit(event(4))
                throw Rollback()
            }
            for n in 5..<8 { try store.audit(event(n)) }
        }
        try verify(store)
        #expect(try store.auditEntries(from: 0, limit: 100).map(\.user) == ["u0", "u1", "u2", "u5", "u6", "u7"])
    }

    @Test("a transaction rolled back after appends, then as many appends by another process, then ours: the log still verifies",
          arguments: RecordStoreTests.backends)
    func rollbackMatchedByAnotherProcess(backend: Backend) async throws {
        let fixture = try await AuditLogTests().open(backend)
        let ours = fixture.store
        for n in 0..<3 { try ours.audit(event(n)) }
        _ = try? ours.transaction(holdingAuditLock: true) { () throws -> Void in
            try ours.audit(event(10))
            try ours.audit(event(11))
            throw Rollback()
        }
        let other = try RecordStore(connection: fixture.raw)
        try other.audit(event(20))
        try other.audit(event(21))
        for n in 30..<35 { try ours.audit(event(n)) }
        try other.audit(event(40))
        try ours.transaction(holdingAuditLock: true) {
            try ours.audit(event(50))
            try ours.audit(event(51))
        }
        try verify(ours)
        #expect(try ours.auditEntries(from: 0, limit: 100).map(\.user) == ["u0", "u1", "u2", "u20", "u21", "u30", "u31", "u32", "u33", "u34", "u40", "u50", "u51"])
    }
}
