import CofferTransaction
import Testing

@Suite struct TokenBucketsTests {
    @Test("a key spends its burst, is refused with the seconds until a token is back, and regains tokens at the rate")
    func burstAndRefill() {
        let buckets = TokenBuckets(policy: .init(burst: 3, perHour: 3_600))
        for _ in 0..<3 { #expect(buckets.take("user:a", nowMs: 0) == nil) }
        #expect(buckets.take("user:a", nowMs: 0) == 1, "one token a second")
        #expect(buckets.take("user:b", nowMs: 0) == nil, "keys are apart")
        #expect(buckets.take("user:a", nowMs: 999) == 1)
        #expect(buckets.take("user:a", nowMs: 1_000) == nil, "a token came back")
        #expect(buckets.take("user:a", nowMs: 1_000) != nil)
        for _ in 0..<3 { #expect(buckets.take("user:a", nowMs: 10_000_000) == nil, "refilled to the burst, not beyond") }
        #expect(buckets.take("user:a", nowMs: 10_000_000) != nil)
    }

    @Test("refusals are summarised once per key and window, then forgotten")
    func summaries() {
        let buckets = TokenBuckets(policy: .init(burst: 1, perHour: 1))
        _ = buckets.take("user:a", nowMs: 0)
        for _ in 0..<5 { #expect(buckets.take("user:a", nowMs: 10) == 3_600) }
        #expect(buckets.drain(nowMs: 59_000, windowMs: 60_000).isEmpty, "the window is not over")
        let due = buckets.drain(nowMs: 60_010, windowMs: 60_000)
        #expect(due.map(\.key) == ["user:a"] && due.first?.refused == 5 && due.first?.windowStartMs == 10)
        #expect(buckets.drain(nowMs: 200_000, windowMs: 60_000).isEmpty)
    }

    @Test("a full table drops refilled buckets first, then shares one overflow bucket; a limit of 0 is off")
    func boundedAndOff() {
        var policy = TokenBuckets.Policy(burst: 1, perHour: 3_600)
        policy.maxKeys = 2
        let buckets = TokenBuckets(policy: policy)
        #expect(buckets.take("source:1", nowMs: 0) == nil)
        #expect(buckets.take("source:2", nowMs: 0) == nil)
        #expect(buckets.take("source:3", nowMs: 0) == nil, "the overflow bucket's one token")
        #expect(buckets.take("source:4", nowMs: 0) != nil, "new keys share the overflow bucket")
        #expect(buckets.take("source:5", nowMs: 5_000) == nil, "refilled buckets made room")
        let off = TokenBuckets(policy: .off)
        for _ in 0..<1_000 { #expect(off.take("user:a", nowMs: 0) == nil) }
    }

    @Test("a full table is swept of refilled buckets at most once a second")
    func sweepOncePerSecond() {
        var policy = TokenBuckets.Policy(burst: 1, perHour: 6_000)  // a token every 600 ms
        policy.maxKeys = 2
        let buckets = TokenBuckets(policy: policy)
        #expect(buckets.take("source:1", nowMs: 0) == nil)
        #expect(buckets.take("source:2", nowMs: 0) == nil)
        #expect(buckets.take("source:3", nowMs: 0) == nil, "swept at 0; nothing refilled, so the overflow bucket")
        #expect(buckets.take("source:4", nowMs: 700) == nil, "every bucket refilled, the overflow one too")
        #expect(buckets.take("source:5", nowMs: 700) != nil, "not swept again within the second: the overflow bucket is spent")
        #expect(buckets.drain(nowMs: 700, windowMs: 0).map(\.key) == [TokenBuckets.overflowKey])
        #expect(buckets.take("source:6", nowMs: 1_000) == nil, "swept again a second later")
        #expect(buckets.drain(nowMs: 1_000, windowMs: 0).isEmpty)
    }
}
