import Foundation
import Logging
import Testing
@testable import TrunkGateway
import TrunkHardware

/// Offered traffic from the lab's carrier through the PRI trunk into the call model, faster
/// than real time. The full 10-minute busy-hour run is `trunkctl sim traffic --erlang 0.875
/// --minutes 10` on a running trunkd (see the closing note); here two minutes of lab time.
@Suite("Traffic through the call model")
struct TrafficTests {
    @Test("two minutes at 0.875 Erlang on 30 channels: every call that found a channel completes, answer delay p99 ≤ 50 ms")
    func busyHourLoad() throws {
        let simulator = try LineSimulator()
        let pri = try PRILab(simulator: simulator, logger: Logger(label: "test"))
        let calls = try CallService(pri: pri, store: nil, logger: Logger(label: "test"))
        let manager = calls.manager
        // An upper layer that answers every call it is offered at once, as an IVR would.
        manager.claim(CallClaim(owner: "ivr", spans: [2]))
        manager.addObserver { notification in
            if case .offered(let call) = notification { try? manager.answer(call.callID) }
        }
        simulator.tick(count: 200)
        let profile = TrafficGenerator.Profile(erlangPerChannel: 0.875, channels: 30, durationMs: 120_000, meanHoldMs: 20_000, seed: 7)
        let run = try calls.startTraffic(profile, span: 1)
        simulator.tick(count: 120_000)
        // Let the last calls finish (holding times are exponential: allow a long tail).
        var drained = 0
        while run.report().running && drained < 300_000 {
            simulator.tick(count: 1_000)
            drained += 1_000
        }
        let report = run.report()
        #expect(!report.running)
        #expect(report.offered > 120, "about 157 arrivals expected, got \(report.offered)")
        #expect(report.failed == 0, "failures: \(report.failureCauses)")
        #expect(report.completed + report.blocked == report.offered)
        #expect((report.completionRatio ?? 0) >= 0.9999)
        #expect((report.answerDelayP99Ms ?? .infinity) <= 50, "p99 \(String(describing: report.answerDelayP99Ms))")
        #expect(report.carriedErlang > 0.6 && report.carriedErlang < 0.95, "carried \(report.carriedErlang)")
        // Every call the gateway saw is in the model's records, ended normally.
        let ended = manager.recentlyEnded.filter { $0.direction == .inbound }
        #expect(ended.count == min(report.completed, CallManager.Configuration().endedKept))
        #expect(ended.allSatisfy { $0.cause == 16 && $0.failure == nil && $0.time(of: .answered) != nil })
        #expect(manager.live.isEmpty)
    }
}
