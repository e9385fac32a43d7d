import CofferClient
import Foundation
import Testing

/// Spans and ends of grants as people type them on the command line.
@Suite struct TimeSpanTests {
    @Test("a span is a whole number with s, m, h or d; anything else, zero, or over a century is none")
    func spans() {
        #expect(TimeSpan.parse("30s") == .seconds(30))
        #expect(TimeSpan.parse("15m") == .seconds(900))
        #expect(TimeSpan.parse("12h") == .seconds(43_200))
        #expect(TimeSpan.parse("7d") == .seconds(604_800))
        for text in ["", "m", "0m", "-5m", "5w", "1.5h", "next week", "36500000d"] {
            #expect(TimeSpan.parse(text) == nil, "\(text)")
        }
    }

    @Test("a grant ends at a span from now, an ISO 8601 time, or the start of a date in UTC")
    func grantEnds() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(GrantEnd.parse("2h", now: now) == now.addingTimeInterval(7_200))
        #expect(GrantEnd.parse("2026-12-31T18:00:00Z", now: now) == Date(timeIntervalSince1970: 1_798_740_000))
        #expect(GrantEnd.parse("2026-12-31", now: now) == Date(timeIntervalSince1970: 1_798_675_200))
        #expect(GrantEnd.parse("tomorrow", now: now) == nil)
        #expect(GrantEnd.format(1_798_740_000_000) == "2026-12-31T18:00:00Z")
    }
}
