import NIOConcurrencyHelpers

/// A deadline that fires once per interval of an advancing clock, without a timer thread.
final class IntervalGate: Sendable {
    private let last: NIOLockedValueBox<Int64>

    init(_ start: Int64) { last = NIOLockedValueBox(start) }

    /// True (and restarts the interval) when `now` is at least `every` past the last firing.
    func advance(to now: Int64, every: Int64) -> Bool {
        last.withLockedValue { last in
            guard now - last >= every else { return false }
            last = now
            return true
        }
    }
}
