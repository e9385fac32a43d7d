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
            #expect(limiter.check(source: "a", user: "alice", nowMs: 1_000) == nil)
            limiter.failed(source: "a", user: "alice", nowMs: 1_000)
        }
        #expect(limiter.check(source: "a", user: "alice", nowMs: 2_000) == 9, "seconds until the window renews")
        #expect(limiter.check(source: "a", user: "bob", nowMs: 2_000) == nil, "another user from the same source is still served")
        #expect(limiter.check(source: "a", user: "alice", nowMs: 11_000) == nil, "a new window")
    }

    @Test func aSourceBeyondItsBudgetIsRefusedForEveryUser() {
        let limiter = limiter()
        for n in 0..<5 { limiter.failed(source: "flood", user: "user\(n)", nowMs: 0) }
        #expect(limiter.check(source: "flood", user: "zoe", nowMs: 1) != nil)
        #expect(limiter.check(source: "elsewhere", user: "zoe", nowMs: 1) == nil)
    }

    @Test func refusalsAreSummarizedOncePerKeyWhenTheWindowEnds() {
        let limiter = limiter()
        limiter.failed(source: "a", user: "alice", nowMs: 0)
        limiter.failed(source: "a", user: "alice", nowMs: 0)
        for _ in 0..<7 { _ = limiter.check(source: "a", user: "alice", nowMs: 5) }
        #expect(limiter.drain(nowMs: 9_000).isEmpty, "the window is still open")
        let summaries = limiter.drain(nowMs: 10_000)
        #expect(summaries.contains(FailureLimiter.Summary(key: "user:alice", refused: 7, windowStartMs: 0)))
        #expect(summaries.contains { $0.key == "source:a" && $0.refused == 7 })
        #expect(limiter.drain(nowMs: 20_000).isEmpty, "each summary once")
    }

    @Test func theTableOfKeysIsBoundedAndNewKeysShareTheOverflowKey() {
        let limiter = limiter(perUser: 1, perSource: 3, maxKeys: 4)
        for n in 0..<50 { limiter.failed(source: "s\(n)", user: nil, nowMs: 0) }
        #expect(limiter.check(source: "s0", user: nil, nowMs: 1) == nil, "a remembered source keeps its own budget")
        #expect(limiter.check(source: "newcomer", user: nil, nowMs: 1) != nil, "new sources share the spent overflow budget")
        #expect(limiter.drain(nowMs: 60_000) == [FailureLimiter.Summary(key: FailureLimiter.overflowKey, refused: 1, windowStartMs: 0)])
    }
}
