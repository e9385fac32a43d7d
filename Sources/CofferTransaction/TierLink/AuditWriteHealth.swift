import Synchronization

/// Remembers whether the database tier's last audited change failed to write its audit entry.
final class AuditWriteHealth: Sendable {
    private let state = Mutex<String?>(nil)

    /// The last failure, until an audited change succeeds again.
    var failure: String? { state.withLock { $0 } }

    func failed(_ why: String) {
        state.withLock { $0 = why }
        TransactionMetrics.auditWriteFailed()
    }
    func succeeded() { state.withLock { $0 = nil } }
}

