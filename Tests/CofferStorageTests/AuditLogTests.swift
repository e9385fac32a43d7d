import CofferAudit
import CofferStorage
import CofferTesting
import Foundation
import Testing

/// The audit log inside the store: a gapless RFC 9162 Merkle log that the store itself refuses to change.
@Suite struct AuditLogTests {
    typealias Backend = RecordStoreTests.Backend

    /// A store, and a second raw connection to the same database for the tests that play a malicious administrator.
    struct Fixture {
        let store: RecordStore
        let raw: any SQLConnection
        let url: String?
    }

    func open(_ backend: Backend) async throws -> Fixture {
        switch backend {
        case .sqlite:
            let path = try TestEnvironment.makeTemporaryDirectory("audit") + "/test.sqlite"
            return Fixture(store: try RecordStore(connection: SQLiteConnection(path: path)), raw: try SQLiteConnection(path: path), url: nil)
        case .postgres:
            let url = try await TestEnvironment.makePostgresDatabase()
            return Fixture(store: try RecordStore(connection: PostgresConnection(url: url)), raw: try PostgresConnection(url: url), url: url)
        }
    }

    func record(_ owner: String, id: UInt8) -> StoredRecord {
        StoredRecord(id: Array(repeating: id, count: 16), owner: owner, fileName: "a.txt", sha256: Array(repeating: 9, count: 32),
                     size: 5, createdAtMs: 1_000, encodeKeyID: Array(repeating: 8, count: 32), wrappedDecodeKey: [1, 2, 3],
                     receipt: Array("{}".utf8), receiptSignature: [7, 7, 7])
    }

    /// Registers two users and makes a few audited changes.
    func populate(_ store: RecordStore) throws {
        #expect(try store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s", device: nil))
        #expect(try store.registerUser(name: "bob", passwordHash: "h", timeMs: 2, source: "s", device: nil))
        #expect(try store.createRecord(record("alice", id: 1), source: "s") != nil)
        _ = try store.releaseKey(recordID: Array(repeating: 1, count: 16), owner: "alice", fileName: "a.txt", receiptSignature: [7, 7, 7], timeMs: 3, source: "s")
        _ = try store.releaseKey(recordID: Array(repeating: 1, count: 16), owner: "bob", fileName: "a.txt", receiptSignature: [7, 7, 7], timeMs: 4, source: "s")
        #expect(try store.createRecord(record("bob", id: 2), source: "s") != nil)
    }

    @Test("every audited change is the next leaf of a gapless Merkle log whose proofs verify", arguments: RecordStoreTests.backends)
    func merkleLog(backend: Backend) async throws {
        let fixture = try await open(backend)
        try populate(fixture.store)
        let entries = try fixture.store.auditEntries(from: 0, limit: 100)
        #expect(entries.map(\.index) == Array(0..<Int64(entries.count)))
        #expect(entries.map(\.kind) == ["register", "register", "save", "retrieve", "retrieve_refused", "save"])
        var memory = MemoryMerkleTree()
        for entry in entries {
            let leaf = try AuditLeaf(bytes: entry.leaf)
            #expect(leaf.index == entry.index && leaf.kind == entry.kind && leaf.user == entry.user && leaf.detail == entry.detail)
            memory.append(leaf: entry.leaf)
        }
        let head = try fixture.store.auditTreeHead()
        #expect(head.size == 6)
        #expect(head.root == (try memory.rootHash()))
        let proofs = try #require(try fixture.store.auditProofs(treeSize: nil, fromSizes: [2, 5], indexes: [0, 2, 3], owner: "alice"))
        for item in proofs.inclusion {
            try MerkleProof.verifyInclusion(leafHash: MerkleHash.leaf(item.leaf), index: item.index, size: 6, proof: item.proof, root: head.root)
        }
        for (from, proof) in proofs.consistency {
            try MerkleProof.verifyConsistency(oldSize: from, newSize: 6, oldRoot: try memory.rootHash(size: from), newRoot: head.root, proof: proof)
        }
        #expect(try fixture.store.auditProofs(treeSize: nil, fromSizes: [], indexes: [1], owner: "alice") == nil, "entry 1 is bob's")
        #expect(try fixture.store.auditProofs(treeSize: 7, fromSizes: [], indexes: [], owner: nil) == nil, "beyond the log")
        #expect(try fixture.store.auditProofs(treeSize: 4, fromSizes: [5], indexes: [], owner: nil) == nil, "an older size beyond the size asked")
        // At the current size, a checkpoint of a longer log (truncated, or restored) gets no proof, and the rest are answered.
        let longer = try #require(try fixture.store.auditProofs(treeSize: nil, fromSizes: [2, 9], indexes: [], owner: nil))
        #expect(longer.treeSize == 6 && longer.consistency[2] != nil && longer.consistency[9] == nil)
    }

    @Test("the audit tables refuse UPDATE, DELETE and TRUNCATE", arguments: RecordStoreTests.backends)
    func appendOnly(backend: Backend) async throws {
        let fixture = try await open(backend)
        try populate(fixture.store)
        #expect(try fixture.store.storeCheckpoint(treeSize: 6, rootHash: try fixture.store.auditTreeHead().root, note: "n", timeMs: 1) == .stored)
        var statements = [
            "UPDATE audit_log SET detail = 'edited' WHERE idx = 1", "DELETE FROM audit_log WHERE idx = 5",
            "UPDATE audit_tree SET hash = hash WHERE level = 0", "DELETE FROM audit_tree",
            "UPDATE audit_checkpoints SET note = 'x'", "DELETE FROM audit_checkpoints",
        ]
        if backend == .postgres { statements += ["TRUNCATE audit_log", "TRUNCATE audit_tree", "TRUNCATE audit_checkpoints"] }
        for sql in statements {
            #expect(throws: StorageError.self, "\(sql)") { try fixture.raw.execute(sql) }
        }
        #expect(try fixture.store.auditEntries(from: 0, limit: 100).count == 6)
    }

    @Test("the database tier's PostgreSQL role may only SELECT and INSERT the audit tables")
    func tierRole() async throws {
        guard RecordStoreTests.backends.contains(.postgres) else { return }
        let fixture = try await open(.postgres)
        let url = try #require(fixture.url)
        let role = "coffer_tier_" + UUID().uuidString.prefix(8).lowercased()
        try fixture.raw.execute("CREATE ROLE \(role) LOGIN")
        // A hardened database: no function is executable by everyone.
        try fixture.raw.execute("REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC")
        try Migrations.grantTierRights(to: role, on: fixture.raw)
        let tierURL = url.replacingOccurrences(of: "://coffer@", with: "://\(role)@")
        #expect(tierURL != url)
        let tier = try RecordStore(connection: PostgresConnection(url: tierURL))
        try populate(tier)
        #expect(try tier.saveInOneCall(OneCallSaveTests().save(id: 9)) { _ in [1] } != nil, "the tier role runs the one-call save")
        let asTier = try PostgresConnection(url: tierURL)
        #expect(throws: StorageError.self, "only a superuser may switch triggers off") { try asTier.execute("SET session_replication_role = replica") }
        for sql in ["UPDATE audit_log SET detail = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log", "DELETE FROM audit_tree", "TRUNCATE audit_checkpoints"] {
            #expect(throws: StorageError.self, "\(sql)") { try asTier.execute(sql) }
        }
        // No table of the schema is left out: a new one the tier writes must be granted too.
        let ungranted = try fixture.raw.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' AND NOT has_table_privilege($1, quote_ident(schemaname) || '.' || quote_ident(tablename), 'INSERT')",
            [.text(role)]
        ).map { try $0.text(0) }
        #expect(ungranted.isEmpty, "tables the tier role cannot write: \(ungranted)")
    }

    @Test("an audit entry that cannot be written undoes the change it records", arguments: RecordStoreTests.backends)
    func failClosed(backend: Backend) async throws {
        let fixture = try await open(backend)
        #expect(try fixture.store.registerUser(name: "alice", passwordHash: "h", timeMs: 1, source: "s", device: nil))
        switch backend {
        case .sqlite:
            try fixture.raw.execute("CREATE TRIGGER fail_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        case .postgres:
            try fixture.raw.execute("""
                CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
                CREATE TRIGGER fail_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION fail_audit();
                """)
        }
        #expect { try fixture.store.createRecord(record("alice", id: 1), source: "s") } throws: { ($0 as? StorageError)?.code == .audit }
        #expect(try fixture.store.listRecords(owner: "alice", limit: 10).isEmpty, "the record was not made")
        #expect { try fixture.store.registerUser(name: "bob", passwordHash: "h", timeMs: 1, source: "s", device: nil) } throws: { ($0 as? StorageError)?.code == .audit }
        #expect(try fixture.store.credentials(user: "bob") == nil ? true : false, "the user was not made")
    }

    @Test("a checkpoint is stored only when its root is the log's root at its size", arguments: RecordStoreTests.backends)
    func checkpoints(backend: Backend) async throws {
        let fixture = try await open(backend)
        try populate(fixture.store)
        let head = try fixture.store.auditTreeHead()
        #expect(try fixture.store.storeCheckpoint(treeSize: 6, rootHash: MerkleHash.empty, note: "n", timeMs: 1) == .mismatch)
        #expect(try fixture.store.storeCheckpoint(treeSize: 7, rootHash: head.root, note: "n", timeMs: 1) == .mismatch)
        #expect(try fixture.store.storeCheckpoint(treeSize: 6, rootHash: head.root, note: "n6", timeMs: 1) == .stored)
        #expect(try fixture.store.storeCheckpoint(treeSize: 6, rootHash: head.root, note: "again", timeMs: 1) == .alreadyStored)
        #expect(try fixture.store.latestCheckpoint()?.note == "n6")
        #expect(try fixture.store.checkpoints(after: 0, limit: 10).map(\.treeSize) == [6])
    }

    @Test("the history of schema 3 moves into the Merkle log in its order")
    func upgrade() async throws {
        let path = try TestEnvironment.makeTemporaryDirectory("upgrade") + "/old.sqlite"
        let old = try SQLiteConnection(path: path)
        #expect(try Migrations.run(on: old, upTo: 3) == 3)
        try old.execute("""
            INSERT INTO users (name, password_hash, created_at_ms) VALUES ('alice', 'h', 1);
            INSERT INTO audit_events (at_ms, kind, user_name, detail, source) VALUES (1, 'register', 'alice', '', 's');
            INSERT INTO audit_events (at_ms, kind, user_name, detail, source) VALUES (2, 'login', 'alice', '', 's');
            """)
        let store = try RecordStore(connection: SQLiteConnection(path: path))
        #expect(store.schemaVersion == Migrations.latestVersion)
        let entries = try store.auditEntries(from: 0, limit: 10)
        #expect(entries.map(\.kind) == ["register", "login"])
        #expect(entries.map(\.index) == [0, 1])
        #expect(try AuditLeaf(bytes: entries[1].leaf).timeMs == 2)
    }
}
