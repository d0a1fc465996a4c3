/// How long a fan-out waits after a wake-up before it drains, adapted to the event rate.
///
/// Each drain costs one socket write per client that has events, whatever their number, so at a
/// high event rate the writes per second, not the events, are what the node (and every client)
/// spends its CPU on: 20 full clients at 2,000 drains/s are 40,000 writes/s. While drains keep
/// finding several events, the window doubles (up to `maximum`), so a busy node makes fewer,
/// larger writes; when a drain finds less than `shrinkBelow` events the window halves back
/// towards `base`, so a quiet node delivers a lone event after `base`. Between the two
/// thresholds it stays as it is, so it does not flap at a steady rate.
///
/// With the defaults (0.5 ms to 2 ms): below about 1,000 events/s the window is 0.5 ms; from
/// about 8,000 events/s it is 2 ms (≤ 500 drains/s); the added latency is at most `maximum`.
struct CoalescingWindow: Sendable {
    /// Nanoseconds.
    let base: Int64
    let maximum: Int64
    private(set) var current: Int64

    /// A drain with at least this many events stretches the window.
    static let stretchAt = 4
    /// A drain with fewer events than this shrinks it.
    static let shrinkBelow = 2

    init(base: Int64, maximum: Int64) {
        self.base = max(0, base)
        // No coalescing (base 0) stays none: every wake-up drains at once.
        self.maximum = self.base == 0 ? 0 : max(self.base, maximum)
        self.current = self.base
    }

    /// A drain took `events` events: the window for the next one.
    mutating func drained(_ events: Int) {
        if events >= Self.stretchAt {
            current = min(maximum, current * 2)
        } else if events < Self.shrinkBelow {
            current = max(base, current / 2)
        }
    }
}
