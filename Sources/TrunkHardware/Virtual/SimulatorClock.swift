#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import TrunkCore

/// Drives a `LineSimulator` in real time: one tick per millisecond on its own thread, against
/// absolute CLOCK_MONOTONIC deadlines so that sleeping late never accumulates as drift. It is
/// the clock master for everything the simulator carries, as a card's oscillator is.
public final class SimulatorClock: @unchecked Sendable {
    /// How far behind the clock may fall before it stops catching up (a stopped or starved
    /// process); the ticks given up are counted, never replayed in a burst.
    public static let catchUpLimitTicks: UInt64 = 200

    public struct Statistics: Sendable, Hashable, Codable {
        public var ticks: UInt64 = 0
        /// Ticks abandoned after a stall longer than `catchUpLimitTicks`.
        public var skippedTicks: UInt64 = 0
        /// Histogram of how late ticks ran, in power-of-two microsecond buckets (bucket k: < 2^k µs).
        public var latenessBuckets: [UInt64] = Array(repeating: 0, count: 24)
        public var maximumLatenessMicroseconds: UInt64 = 0
        /// Whether the thread got SCHED_FIFO.
        public var realtime = false

        /// Upper bound (µs) below which `fraction` of ticks ran.
        public func latenessPercentile(_ fraction: Double) -> UInt64 {
            let total = latenessBuckets.reduce(0, +)
            guard total > 0 else { return 0 }
            var seen: UInt64 = 0
            for (bucket, count) in latenessBuckets.enumerated() {
                seen += count
                if Double(seen) >= fraction * Double(total) { return UInt64(1) << UInt64(bucket) }
            }
            return maximumLatenessMicroseconds
        }

        /// What happened between `earlier` and these statistics: a window's ticks and lateness.
        /// Its maximum is exact when the window set a new maximum, else the window's top bucket bound.
        public func since(_ earlier: Statistics) -> Statistics {
            var window = Statistics()
            window.ticks = ticks - earlier.ticks
            window.skippedTicks = skippedTicks - earlier.skippedTicks
            window.latenessBuckets = zip(latenessBuckets, earlier.latenessBuckets).map { $0 - $1 }
            window.realtime = realtime
            if maximumLatenessMicroseconds > earlier.maximumLatenessMicroseconds {
                window.maximumLatenessMicroseconds = maximumLatenessMicroseconds
            } else if let top = window.latenessBuckets.lastIndex(where: { $0 > 0 }) {
                window.maximumLatenessMicroseconds = min(UInt64(1) << UInt64(top), maximumLatenessMicroseconds)
            }
            return window
        }
    }

    private let simulator: LineSimulator
    private let running = Atomic<Bool>(false)
    private let statisticsLock = KernelLock()
    private var statisticsStorage = Statistics()
    private var thread: pthread_t?

    public init(simulator: LineSimulator) { self.simulator = simulator }

    public var statistics: Statistics { statisticsLock.withLock { statisticsStorage } }

    /// Starts ticking. With `realtime`, asks for SCHED_FIFO and locks memory; without the
    /// privilege (CAP_SYS_NICE / CAP_IPC_LOCK) it runs at normal priority and says so in `statistics`.
    public func start(realtime: Bool = false) throws(TrunkError) {
        guard !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let context = Unmanaged.passRetained(ClockContext(clock: self, realtime: realtime)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { raw in
            let context = Unmanaged<ClockContext>.fromOpaque(raw!).takeRetainedValue()
            context.clock.run(realtime: context.realtime)
            return nil
        }, context)
        guard result == 0 else {
            running.store(false, ordering: .releasing)
            Unmanaged<ClockContext>.fromOpaque(context).release()
            throw TrunkError(.internal, "cannot start the simulator clock thread (error \(result))")
        }
        thread = handle
    }

    /// Stops ticking and waits for the thread to finish its current tick.
    public func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing), let thread else { return }
        pthread_join(thread, nil)
        self.thread = nil
    }

    private func run(realtime: Bool) {
        var gotRealtime = false
        if realtime {
            var parameters = sched_param()
            parameters.sched_priority = 50
            gotRealtime = pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters) == 0
            if gotRealtime { _ = mlockall(Int32(MCL_CURRENT | MCL_FUTURE)) }
        }
        statisticsLock.withLock { statisticsStorage.realtime = gotRealtime }
        var deadline = Self.now()
        while running.load(ordering: .acquiring) {
            deadline &+= 1_000_000
            var wake = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, nil) == EINTR {}
            let started = Self.now()
            let late = started > deadline ? (started - deadline) / 1000 : 0
            simulator.tick()
            var skipped: UInt64 = 0
            if late > Self.catchUpLimitTicks * 1000 {
                skipped = late / 1000
                deadline = started
            }
            statisticsLock.withLock {
                statisticsStorage.ticks += 1
                statisticsStorage.skippedTicks += skipped
                let bucket = min(late == 0 ? 0 : 64 - late.leadingZeroBitCount, 23)
                statisticsStorage.latenessBuckets[bucket] += 1
                statisticsStorage.maximumLatenessMicroseconds = max(statisticsStorage.maximumLatenessMicroseconds, late)
            }
        }
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    public static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

private final class ClockContext {
    let clock: SimulatorClock
    let realtime: Bool
    init(clock: SimulatorClock, realtime: Bool) {
        self.clock = clock
        self.realtime = realtime
    }
}
