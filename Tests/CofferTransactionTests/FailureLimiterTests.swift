import CofferTransaction
import Testing

@Suite struct FailureLimiterTests {
    func limiter(perUser: Int = 2, perSource: Int = 5, maxKeys: Int = 100) -> FailureLimiter {
        var policy = FailureLimiter.Policy()
        policy.perUser = perUser
        policy.perSource = perSource
        policy.window = .seconds(10)
        policy.maxKeys = maxKeys
        return FailureLimiter(policy: policy)
    }

    @Test func aUserBeyondTheBudgetIsRefusedUntilTheWindowEnds() {
        let limiter = limiter()
        for _ in 0..<2 {
            #expect(limiter.admit(source: "a", user: "alice", nowMs: 1_000) == nil)
            limiter.finished(source: "a", user: "alice", failed: true, nowMs: 1_000)
        }
        #expect(limiter.admit(source: "a", user: "alice", nowMs: 2_000) == 9, "seconds until the window renews")
        #expect(limiter.admit(source: "a", user: "alice", nowMs: 2_000, strict: false) == 9, "spent failures refuse lenient attempts too")
        #expect(limiter.admit(source: "a", user: "bob", nowMs: 2_000) == nil, "another user from the same source is still served")
        #expect(limiter.admit(source: "a", user: "alice", nowMs: 11_000) == nil, "a new window")
    }

    @Test func concurrentAttemptsCannotOverrunTheBudget() {
        let limiter = limiter()
        // Two attempts admitted and still running count already: the third is refused before either ends.
        _ = limiter.admit(source: "a", user: "alice", nowMs: 0)
        _ = limiter.admit(source: "a", user: "alice", nowMs: 0)
        #expect(limiter.admit(source: "a", user: "alice", nowMs: 0) != nil)
    }

    @Test func successesAndAttemptsThatDidNotFailOnTheirMeritsAreNotCharged() {
        let limiter = limiter()
        for _ in 0..<20 {
            #expect(limiter.admit(source: "a", user: "alice", nowMs: 0) == nil)
            limiter.succeeded(source: "a", user: "alice", nowMs: 0)
            #expect(limiter.admit(source: "a", user: "alice", nowMs: 0) == nil)
            limiter.finished(source: "a", user: "alice", failed: false, nowMs: 0)
        }
    }

    @Test func lenientAttemptsAreNotRefusedForBeingConcurrentButFailuresStillCount() {
        let limiter = limiter()
        // One user's twenty retrievals at once: none is refused while none has failed.
        for _ in 0..<20 { #expect(limiter.admit(source: "a", user: "alice", nowMs: 0, strict: false) == nil) }
        #expect(limiter.admit(source: "a", user: "alice", nowMs: 0) != nil, "a strict attempt counts those in flight")
        limiter.finished(source: "a", user: "alice", failed: true, nowMs: 1)
        limiter.finished(source: "a", user: "alice", failed: true, nowMs: 1)
        #expect(limiter.admit(source: "a", user: "alice", nowMs: 2, strict: false) != nil, "two failures spend the budget")
        for _ in 0..<18 { limiter.succeeded(source: "a", user: "alice", nowMs: 3) }
        #expect(limiter.admit(source: "a", user: "bob", nowMs: 3, strict: false) == nil)
    }

    @Test func anAttemptEndingAfterItsWindowCountsInTheNewOne() {
        let limiter = limiter()
        #expect(limiter.admit(source: "a", user: "alice", nowMs: 0) == nil)
        limiter.finished(source: "a", user: "alice", failed: true, nowMs: 11_000)
        #expect(limiter.admit(source: "a", user: "alice", nowMs: 11_000) == nil, "one failure of two")
        limiter.finished(source: "a", user: "alice", failed: true, nowMs: 11_000)
        #expect(limiter.admit(source: "a", user: "alice", nowMs: 11_000) != nil)
    }

    @Test func aSourceBeyondItsBudgetIsRefusedForEveryUser() {
        let limiter = limiter()
        for n in 0..<5 { #expect(limiter.admit(source: "flood", user: "user\(n)", nowMs: 0) == nil) }
        #expect(limiter.admit(source: "flood", user: "zoe", nowMs: 1) != nil)
        #expect(limiter.admit(source: "elsewhere", user: "zoe", nowMs: 1) == nil)
    }

    @Test func refusalsAreSummarizedOncePerSpentKeyWhenTheWindowEnds() {
        let limiter = limiter()
        _ = limiter.admit(source: "a", user: "alice", nowMs: 0)
        _ = limiter.admit(source: "a", user: "alice", nowMs: 0)
        for _ in 0..<7 { #expect(limiter.admit(source: "a", user: "alice", nowMs: 5) != nil) }
        #expect(limiter.drain(nowMs: 9_000).isEmpty, "the window is still open")
        #expect(limiter.drain(nowMs: 10_000) == [FailureLimiter.Summary(key: "user:alice", refused: 7, windowStartMs: 0)], "the source kept its budget")
        #expect(limiter.drain(nowMs: 20_000).isEmpty, "each summary once")
    }

    @Test func theTableOfKeysIsBoundedAndNewKeysShareTheOverflowKey() {
        let limiter = limiter(perUser: 1, perSource: 3, maxKeys: 4)
        for n in 0..<50 { _ = limiter.admit(source: "s\(n)", user: nil, nowMs: 0) }
        #expect(limiter.admit(source: "s0", user: nil, nowMs: 1) == nil, "a remembered source keeps its own budget")
        #expect(limiter.admit(source: "newcomer", user: nil, nowMs: 1) != nil, "new sources share the spent overflow budget")
        #expect(limiter.drain(nowMs: 60_000) == [FailureLimiter.Summary(key: FailureLimiter.overflowKey, refused: 44, windowStartMs: 0)])
    }

    @Test func aFullTableHoldsUpNewLoginsButNotAuthenticatedRetrievals() {
        let limiter = limiter(perUser: 2, perSource: 1_000, maxKeys: 4)
        // A flood of made-up names fills the table, and their failures spend the overflow budget.
        for n in 0..<20 {
            if limiter.admit(source: "flood", user: "made-up-\(n)", nowMs: 0) == nil {
                limiter.finished(source: "flood", user: "made-up-\(n)", failed: true, nowMs: 0)
            }
        }
        #expect(limiter.admit(source: "office", user: "carol", nowMs: 1) != nil, "a login under a new name shares the spent overflow budget")
        #expect(limiter.admit(source: "office", user: "carol", nowMs: 1, strict: false) == nil, "a retrieval is judged by its own failures")
    }
}
