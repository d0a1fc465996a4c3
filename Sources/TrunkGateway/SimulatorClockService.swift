import Logging
import ServiceLifecycle
import TrunkHardware

/// Runs the simulator's real-time clock for the life of the service group.
public struct SimulatorClockService: Service {
    let clock: SimulatorClock
    let realtime: Bool
    let logger: Logger

    public init(clock: SimulatorClock, realtime: Bool, logger: Logger) {
        self.clock = clock
        self.realtime = realtime
        self.logger = logger
    }

    public func run() async throws {
        try clock.start(realtime: realtime)
        let statistics = clock.statistics
        if realtime && !statistics.realtime {
            logger.notice("simulator clock runs without SCHED_FIFO (needs CAP_SYS_NICE); ticks may be late under load")
        }
        logger.info("simulator clock started: 1 ms ticks")
        // Runs until trunkd is asked to stop (SIGTERM/SIGINT) or the group is cancelled.
        try? await gracefulShutdown()
        clock.stop()
        logger.info("simulator clock stopped", metadata: ["ticks": "\(clock.statistics.ticks)"])
    }
}
