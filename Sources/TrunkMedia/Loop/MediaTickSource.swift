#if canImport(Glibc)
import Glibc
#endif
import TrunkCore
import TrunkHardware

/// What wakes the media loop thread once per hardware tick (1 ms).
public protocol MediaTickSource: AnyObject {
    /// Blocks until the next tick is due. Returns the ticks to run (more than one when the
    /// loop fell behind, 0 on a timeout) and the CLOCK_MONOTONIC time (ns) the first was due,
    /// or 0 when the source cannot tell (a hardware timer only says that it fired).
    func waitForTicks() throws(TrunkError) -> (ticks: Int, deadline: UInt64)
    /// Called by the loop's thread once it is set up (scheduling, pinning, memory locked),
    /// right before its first wait: a source that keeps its own schedule starts it here.
    func begin()
}

extension MediaTickSource {
    public func begin() {}
}

/// DAHDI's timer, configured for 8 samples (every tick), is the cards' clock.
extension DAHDITimer: MediaTickSource {
    public func waitForTicks() throws(TrunkError) -> (ticks: Int, deadline: UInt64) {
        (try wait(timeoutMs: 100) * (samplesPerExpiry / Tick.samplesPerTick), 0)
    }
}

/// CLOCK_MONOTONIC absolute deadlines, for a loop with no card to take its time from (load
/// tests, benchmarks), one tick per millisecond: sleeping late never accumulates as drift; a
/// stall longer than `catchUpLimit` ticks is given up rather than replayed in a burst.
public final class MonotonicTickSource: MediaTickSource {
    public let periodNanoseconds: UInt64
    public static let catchUpLimit: UInt64 = 200
    private var next: UInt64
    /// Ticks abandoned after a stall.
    public private(set) var skippedTicks: UInt64 = 0

    public init() {
        periodNanoseconds = 1_000_000
        next = 0
        begin()
    }

    /// The schedule starts one period from now: locking a large process's memory takes tens of
    /// milliseconds, which would otherwise count as the first ticks' lateness.
    public func begin() {
        next = MonotonicClock.nanoseconds() + periodNanoseconds
    }

    public func waitForTicks() throws(TrunkError) -> (ticks: Int, deadline: UInt64) {
        var deadline = timespec(tv_sec: Int(next / 1_000_000_000), tv_nsec: Int(next % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nil) == EINTR {}
        let now = MonotonicClock.nanoseconds()
        let due = next
        var ticks = now > due ? 1 + (now - due) / periodNanoseconds : 1
        if ticks > Self.catchUpLimit {
            skippedTicks += ticks - 1
            ticks = 1
            next = now
        }
        next += ticks * periodNanoseconds
        return (Int(ticks), due)
    }
}

/// CLOCK_MONOTONIC, the clock tick deadlines are kept on.
public enum MonotonicClock {
    @inline(__always)
    public static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
