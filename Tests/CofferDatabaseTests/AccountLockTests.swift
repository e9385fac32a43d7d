import CofferStorage
import CofferWire
import Testing

@Suite struct AccountLockTests {
    @Test("the store's refusal for a locked account is the message the transaction tier recognizes")
    func reasonsAgree() {
        // The database tier passes RecordStore's reason on in FORBIDDEN answers; the transaction tier
        // turns WireProtocol's into 403 `account_locked`.
        #expect(RecordStore.accountLockedReason == WireProtocol.accountLockedReason)
    }
}
