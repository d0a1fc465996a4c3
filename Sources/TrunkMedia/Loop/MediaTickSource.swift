#if canImport(Glibc)
import Glibc
#endif
import TrunkCore
import TrunkHardware

/// What wakes the media loop thread once per block.
public protocol MediaTickSource: AnyObject {
    /// Blocks until the next block is due. Returns the cycles to run (more than one when the
    /// loop fell behind, 0 on a timeout) and the CLOCK_MONOTONIC time (ns) the first was due,
    /// or 0 when the source cannot tell (a hardware timer only says that it fired).
    func waitForCycles() throws(TrunkError) -> (cycles: Int, deadline: UInt64)
}

/// DAHDI's timer, configured with the loop's block size in samples, is the cards' clock.
extension DAHDITimer: MediaTickSource {
    public func waitForCycles() throws(TrunkError) -> (cycles: Int, deadline: UInt64) {
        (try wait(timeoutMs: 100), 0)
    }
}

/// CLOCK_MONOTONIC absolute deadlines, for a loop with no card to take its time from (load
/// tests, benchmarks): sleeping late never accumulates as drift; a stall longer than
/// `catchUpLimit` cycles is given up rather than replayed in a burst.
public final class MonotonicTickSource: MediaTickSource {
    public let periodNanoseconds: UInt64
    public static let catchUpLimit: UInt64 = 200
    private var next: UInt64
    /// Cycles abandoned after a stall.
    public private(set) var skippedCycles: UInt64 = 0

    public init(blockSize: MediaBlockSize) {
        periodNanoseconds = UInt64(blockSize.ticksPerBlock) * 1_000_000
        next = MonotonicClock.nanoseconds() + periodNanoseconds
    }

    public func waitForCycles() throws(TrunkError) -> (cycles: Int, deadline: UInt64) {
        var deadline = timespec(tv_sec: Int(next / 1_000_000_000), tv_nsec: Int(next % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nil) == EINTR {}
        let now = MonotonicClock.nanoseconds()
        let due = next
        var cycles = now > due ? 1 + (now - due) / periodNanoseconds : 1
        if cycles > Self.catchUpLimit {
            skippedCycles += cycles - 1
            cycles = 1
            next = now
        }
        next += cycles * periodNanoseconds
        return (Int(cycles), due)
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
