import Testing
@testable import TrunkCTI

/// The fan-out's coalescing window follows the events each drain finds: it stretches (doubling,
/// up to its maximum) while drains find several events, shrinks (halving, down to its base) when
/// they find at most one, and holds in between.
@Suite("CTI coalescing window")
struct CoalescingWindowTests {
    static let base: Int64 = 500_000
    static let maximum: Int64 = 2_000_000

    @Test("busy drains stretch the window to its maximum by doubling; it never passes the maximum")
    func stretchesWhileBusy() {
        var window = CoalescingWindow(base: Self.base, maximum: Self.maximum)
        #expect(window.current == Self.base)
        var seen: [Int64] = []
        for _ in 0..<4 {
            window.drained(CoalescingWindow.stretchAt)
            seen.append(window.current)
        }
        #expect(seen == [1_000_000, 2_000_000, 2_000_000, 2_000_000])
    }

    @Test("sparse drains shrink it back to the base by halving; a steady rate between the thresholds holds it")
    func shrinksWhenSparseAndHolds() {
        var window = CoalescingWindow(base: Self.base, maximum: Self.maximum)
        window.drained(40)
        window.drained(40)
        #expect(window.current == Self.maximum)
        window.drained(CoalescingWindow.stretchAt - 1)
        #expect(window.current == Self.maximum, "between the thresholds the window holds")
        window.drained(1)
        #expect(window.current == 1_000_000)
        window.drained(CoalescingWindow.shrinkBelow)
        #expect(window.current == 1_000_000)
        window.drained(0)
        window.drained(1)
        #expect(window.current == Self.base)
        window.drained(CoalescingWindow.shrinkBelow)
        #expect(window.current == Self.base)
    }

    @Test("no coalescing (base 0) stays none whatever the drains find; a maximum below the base is the base")
    func zeroAndInvertedBounds() {
        var none = CoalescingWindow(base: 0, maximum: Self.maximum)
        none.drained(1000)
        #expect(none.current == 0 && none.maximum == 0)
        var fixed = CoalescingWindow(base: Self.base, maximum: 100)
        fixed.drained(1000)
        #expect(fixed.current == Self.base && fixed.maximum == Self.base)
    }
}
