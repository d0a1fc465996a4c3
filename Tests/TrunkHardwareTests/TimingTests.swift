import Synchronization
import Testing
@testable import TrunkHardware

@Suite("Simulator clock")
struct TimingTests {
    /// Like dahdi_test: count ticks against CLOCK_MONOTONIC over 10 seconds.
    @Test("ticks keep real time within 0.1 % over 10 s", .timeLimit(.minutes(1)))
    func accuracy() async throws {
        let simulator = try LineSimulator()
        let clock = SimulatorClock(simulator: simulator)
        let marks = Mutex<(first: (UInt64, UInt64)?, last: (UInt64, UInt64)?)>((nil, nil))
        simulator.addTickObserver { tick in
            let now = SimulatorClock.now()
            marks.withLock { if $0.first == nil { $0.first = (tick, now) } else { $0.last = (tick, now) } }
        }
        try clock.start()
        try await Task.sleep(for: .seconds(10))
        clock.stop()
        let (first, last) = marks.withLock { ($0.first!, $0.last!) }
        let ticks = Double(last.0 - first.0)
        let elapsedMs = Double(last.1 - first.1) / 1e6
        let error = abs(ticks - elapsedMs) / elapsedMs
        #expect(elapsedMs > 9_000)
        #expect(error < 0.001, "\(ticks) ticks in \(elapsedMs) ms")
        #expect(clock.statistics.skippedTicks == 0)
    }
}
