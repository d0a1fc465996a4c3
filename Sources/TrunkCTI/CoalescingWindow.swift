/// How long a fan-out waits after a wake-up before it drains, adapted to how far behind its
/// loop is.
///
/// Each drain costs one socket write per client that has events, whatever their number, so at a
/// high event rate the writes per second, not the events, are what the node (and every client)
/// spends its CPU on: 20 full clients at 2,000 drains/s are 40,000 writes/s. On a machine with
/// CPU to spare that is fine and the short window keeps latency low. When the loop cannot keep
/// up — a drain runs well after the time it was scheduled for (the loop was busy, or its thread
/// waited for a core) while events keep coming — the window doubles (up to `maximum`), so the
/// node makes fewer, larger writes and needs less CPU; once drains run on time again, or find
/// at most one event, it halves back towards `base`. Between the thresholds it holds, so it
/// does not flap.
///
/// Measured with trunkbench-cti at 20,000 events/s to 20 clients: the fan-out's loops need about
/// 0.37 cores at 0.5 ms, 0.19 at 1 ms, 0.12 at 2 ms; the added latency is at most `maximum`.
struct CoalescingWindow: Sendable {
    /// Nanoseconds.
    let base: Int64
    let maximum: Int64
    private(set) var current: Int64

    /// A drain with at least this many events may stretch the window.
    static let stretchAt = 4
    /// A drain with fewer events than this shrinks it.
    static let shrinkBelow = 2

    init(base: Int64, maximum: Int64) {
        self.base = max(0, base)
        // No coalescing (base 0) stays none: every wake-up drains at once.
        self.maximum = self.base == 0 ? 0 : max(self.base, maximum)
        self.current = self.base
    }

    /// Late by at least this much (ns), the loop is behind.
    var behind: Int64 { base / 2 }
    /// Late by less than this, it is keeping up.
    var onTime: Int64 { base / 8 }

    /// A drain took `events` events, `late` ns after the time it was scheduled for: the window
    /// for the next one.
    mutating func drained(_ events: Int, late: Int64) {
        if events >= Self.stretchAt && late >= behind {
            current = min(maximum, current * 2)
        } else if events < Self.shrinkBelow || late < onTime {
            current = max(base, current / 2)
        }
    }
}
