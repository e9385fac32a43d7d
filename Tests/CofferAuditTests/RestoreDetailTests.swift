import CofferAudit
import Testing

/// The detail of a `restore` entry: written and read back exactly, anything else refused.
@Suite struct RestoreDetailTests {
    let root = String(repeating: "ab", count: 32)

    @Test("a restore detail reads back as written, with a known or an unknown lost length and a note that holds semicolons")
    func roundTrip() {
        for lost in [Int64?.none, 0, 912] {
            let detail = RestoreDetail(backupEntries: 40, backupRoot: root, backupTakenMs: 1_700_000_000_000, lostEntries: lost, note: "incident 7; disk lost")
            #expect(RestoreDetail(detail: detail.detail) == detail)
        }
        #expect(RestoreDetail(backupEntries: 1, backupRoot: root, backupTakenMs: 0, lostEntries: nil, note: "").backupRootHash == Array(repeating: 0xAB, count: 32))
    }

    @Test("a detail with a field missing, repeated, negative, or a root that is not 64 lowercase hex digits is not a restore's", arguments: [
        "", "restored", "backup_entries=1 backup_root=\(String(repeating: "ab", count: 32)) backup_taken_ms=0; x",
        "backup_entries=-1 backup_root=\(String(repeating: "ab", count: 32)) backup_taken_ms=0 lost_entries=3; x",
        "backup_entries=1 backup_root=\(String(repeating: "AB", count: 32)) backup_taken_ms=0 lost_entries=3; x",
        "backup_entries=1 backup_root=abab backup_taken_ms=0 lost_entries=3; x",
        "backup_entries=1 backup_entries=1 backup_taken_ms=0 lost_entries=3; x",
        "backup_entries=1 backup_root=\(String(repeating: "ab", count: 32)) backup_taken_ms=0 lost_entries=-3; x",
        "backup_entries=1 backup_root=\(String(repeating: "ab", count: 32)) backup_taken_ms=0 lost_entries=3",
    ])
    func malformed(detail: String) {
        #expect(RestoreDetail(detail: detail) == nil)
    }
}
