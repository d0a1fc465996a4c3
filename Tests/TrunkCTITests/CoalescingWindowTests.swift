import Testing
@testable import TrunkCTI

/// The fan-out's coalescing window follows how far behind its loop is: it stretches (doubling,
/// up to its maximum) while drains find several events and run late, shrinks (halving, down to
/// its base) once they run on time or find at most one event, and holds in between.
@Suite("CTI coalescing window")
struct CoalescingWindowTests {
    static let base: Int64 = 500_000
    static let maximum: Int64 = 2_000_000
    /// Late enough to count as behind, and on time.
    static let late: Int64 = 400_000
    static let prompt: Int64 = 20_000

    @Test("busy drains that run late stretch the window to its maximum by doubling; it never passes the maximum")
    func stretchesWhileBehind() {
        var window = CoalescingWindow(base: Self.base, maximum: Self.maximum)
        #expect(window.current == Self.base)
        var seen: [Int64] = []
        for _ in 0..<4 {
            window.drained(CoalescingWindow.stretchAt, late: Self.late)
            seen.append(window.current)
        }
        #expect(seen == [1_000_000, 2_000_000, 2_000_000, 2_000_000])
    }

    @Test("many events on a loop that keeps up leave the window at its base: a node with CPU to spare keeps its latency")
    func busyButOnTimeStaysShort() {
        var window = CoalescingWindow(base: Self.base, maximum: Self.maximum)
        for _ in 0..<10 { window.drained(40, late: Self.prompt) }
        #expect(window.current == Self.base)
        // Late, but by less than half the base window: not behind, and not on time either: holds.
        window.drained(40, late: Self.late)
        #expect(window.current == 1_000_000)
        window.drained(40, late: Self.base / 4)
        #expect(window.current == 1_000_000)
    }

    @Test("drains on time again, or sparse ones, shrink it back to the base by halving")
    func shrinksWhenCaughtUpOrSparse() {
        var window = CoalescingWindow(base: Self.base, maximum: Self.maximum)
        window.drained(40, late: Self.late)
        window.drained(40, late: Self.late)
        #expect(window.current == Self.maximum)
        window.drained(40, late: Self.prompt)
        #expect(window.current == 1_000_000, "on time again")
        window.drained(1, late: Self.late)
        #expect(window.current == Self.base, "a lone event, however late")
        window.drained(0, late: 0)
        #expect(window.current == Self.base)
    }

    @Test("no coalescing (base 0) stays none whatever the drains find; a maximum below the base is the base")
    func zeroAndInvertedBounds() {
        var none = CoalescingWindow(base: 0, maximum: Self.maximum)
        none.drained(1000, late: 10_000_000)
        #expect(none.current == 0 && none.maximum == 0)
        var fixed = CoalescingWindow(base: Self.base, maximum: 100)
        fixed.drained(1000, late: 10_000_000)
        #expect(fixed.current == Self.base && fixed.maximum == Self.base)
    }
}
