#if canImport(Glibc)
import Glibc
#endif

/// Monotonic nanoseconds (CLOCK_MONOTONIC), for timing runs.
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID). On this shared
/// machine a run of a few ms is often descheduled part way through; wall
/// time then measures the other processes, thread CPU time does not.
func threadCPUNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Wall-clock and thread CPU time of one run, both in ns.
struct RunTime {
    var wall: Double
    var cpu: Double

    static func measure(_ body: () -> Void) -> RunTime {
        let wall0 = monotonicNanoseconds(), cpu0 = threadCPUNanoseconds()
        body()
        let cpu1 = threadCPUNanoseconds(), wall1 = monotonicNanoseconds()
        return RunTime(wall: Double(wall1 - wall0), cpu: Double(cpu1 - cpu0))
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let n = sorted.count
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
}
