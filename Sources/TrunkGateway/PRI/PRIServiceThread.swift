#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import TrunkCore
import TrunkHardware
import TrunkISDN

/// Services PRI drivers on real cards: a thread that wakes on every DAHDI timer expiry and
/// gives each driver its turn (frames in and out, due timers).
final class PRIServiceThread: @unchecked Sendable {
    private let drivers: [PRISpanDriver]
    private let timer: DAHDITimer
    private let clock: @Sendable () -> ISDNInstant
    private let tickHandlers: NIOLockedValueBox<[@Sendable () -> Void]>

    init(drivers: [PRISpanDriver], timer: DAHDITimer, clock: @escaping @Sendable () -> ISDNInstant,
         tickHandlers: NIOLockedValueBox<[@Sendable () -> Void]>) {
        self.drivers = drivers
        self.timer = timer
        self.clock = clock
        self.tickHandlers = tickHandlers
    }

    func start() throws(TrunkError) {
        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { raw in
            let runner = Unmanaged<PRIServiceThread>.fromOpaque(raw!).takeRetainedValue()
            runner.run()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<PRIServiceThread>.fromOpaque(context).release()
            throw TrunkError(.internal, "cannot start the PRI service thread (error \(result))")
        }
        pthread_detach(handle)
    }

    private func run() {
        while true {
            // A timer fault ends waiting but not servicing: fall back to a 1 ms sleep.
            if (try? timer.wait(timeoutMs: 100)) == nil {
                var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
                nanosleep(&pause, nil)
            }
            let now = clock()
            for driver in drivers { driver.service(now: now) }
            for handler in tickHandlers.withLockedValue({ $0 }) { handler() }
        }
    }
}
