import Foundation
import Logging
import Testing
@testable import TrunkGateway
import TrunkHardware

/// The built-in flow end to end on the lab: the carrier calls with a DTMF script, the flow
/// answers, plays its prompt through the media loop, hears the digits in-band, records, plays
/// them back and hangs up; the call record shows every step.
@Suite("Built-in flow on the lab")
struct BuiltInFlowLabTests {
    @Test("a carrier call with DTMF 123# is answered, its digits collected in-band, and cleared by the gateway with cause 16")
    func carrierCallThroughTheFlow() throws {
        let simulator = try LineSimulator()
        let pri = try PRILab(simulator: simulator, logger: Logger(label: "test"))
        let media = CallMediaEngine.lab(simulator: simulator)
        let calls = try CallService(pri: pri, store: nil, media: media, logger: Logger(label: "test"))
        simulator.tick(count: 200)
        try calls.carriers[1]!.place(called: "95500", calling: "13800138000", dtmf: "123#")
        simulator.tick(count: 20_000)
        let record = try #require(calls.manager.recentlyEnded.first)
        #expect(record.handler == "flow")
        #expect(record.digits == "123")
        #expect(record.cause == 16 && record.clearedBy == .local && record.failure == nil)
        let kinds = record.events.map(\.kind)
        #expect(kinds.first == .seized && kinds.last == .hangup)
        #expect(kinds.contains(.answered) && kinds.contains(.firstMedia))
        #expect(record.events.filter { $0.kind == .dtmf }.compactMap(\.detail) == ["1", "2", "3", "#"])
        #expect(record.events.map(\.atMs) == record.events.map(\.atMs).sorted())
        // The gateway answered at once: its own share of the answer delay is a few ticks.
        #expect(try #require(record.time(of: .answered)) < 50)
        #expect(calls.carriers[1]!.ended.first?.clearedBy == "gateway")
        #expect(media.activeCalls == 0)
        #expect(media.failures == 0)
    }
}
