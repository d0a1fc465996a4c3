#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import TrunkCore

/// Runs a `MediaLoop` on a real-time thread of its own, woken by a `MediaTickSource` (DAHDI's
/// timer on real cards). Between waits it runs the ticks that are due. When the source knows
/// the deadline it records how late the loop woke (tick lateness) and how late the ticks due
/// had been processed (when their blocks were written), both against that deadline.
public final class MediaLoopThread: @unchecked Sendable {
    public let loop: MediaLoop
    private let source: any MediaTickSource
    private let cpu: Int?
    private let priority: Int32
    private let lockMemory: Bool
    private let running = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private var thread: pthread_t?
    private var grantStorage: RealTimeGrant?
    /// Wake-up time minus deadline, per wake. Written by the loop thread; read after `stop()`.
    public let wakeLateness = LatenessHistogram()
    /// End of the ticks' work minus the deadline, per wake; read after `stop()`.
    public let completionLateness = LatenessHistogram()
    /// Errors of the tick source (the loop keeps going); the last one, for after `stop()`.
    public private(set) var sourceErrors = 0
    public private(set) var lastSourceError: TrunkError?

    /// `lockMemory`: mlockall for the whole process (what trunkd wants; a test runner does not).
    public init(loop: MediaLoop, source: any MediaTickSource, cpu: Int? = nil, priority: Int32 = 60, lockMemory: Bool = true) {
        self.loop = loop
        self.source = source
        self.cpu = cpu
        self.priority = priority
        self.lockMemory = lockMemory
    }

    /// Starts the thread and returns what real-time treatment it got (log it once).
    public func start() throws(TrunkError) -> RealTimeGrant {
        guard !running.exchange(true, ordering: .acquiringAndReleasing) else {
            throw TrunkError(.alreadyRunning, "the media loop thread is already running")
        }
        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { raw in
            let owner = Unmanaged<MediaLoopThread>.fromOpaque(raw!).takeRetainedValue()
            owner.run()
            return nil
        }, context)
        guard result == 0 else {
            running.store(false, ordering: .releasing)
            Unmanaged<MediaLoopThread>.fromOpaque(context).release()
            throw TrunkError(.internal, "cannot start the media loop thread (pthread_create error \(result))")
        }
        thread = handle
        while !started.load(ordering: .acquiring) { usleep(100) }
        return grantStorage!
    }

    /// Stops after the current wait and tick, and waits for the thread to end.
    public func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing), let thread else { return }
        pthread_join(thread, nil)
        self.thread = nil
    }

    private func run() {
        grantStorage = RealTimeScheduling.applyToCurrentThread(priority: priority, cpu: cpu, lockMemory: lockMemory)
        source.begin()
        started.store(true, ordering: .releasing)
        while running.load(ordering: .relaxed) {
            let due: (ticks: Int, deadline: UInt64)
            do {
                due = try source.waitForTicks()
            } catch {
                sourceErrors += 1
                lastSourceError = error
                continue
            }
            let woke = MonotonicClock.nanoseconds()
            for _ in 0..<due.ticks { loop.tick() }
            if due.deadline != 0, due.ticks > 0 {
                let finished = MonotonicClock.nanoseconds()
                wakeLateness.record(nanoseconds: woke > due.deadline ? woke - due.deadline : 0)
                completionLateness.record(nanoseconds: finished > due.deadline ? finished - due.deadline : 0)
            }
        }
    }
}
