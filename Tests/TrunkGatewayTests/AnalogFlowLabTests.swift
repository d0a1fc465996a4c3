import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
@testable import TrunkGateway
import TrunkHardware

/// The built-in flow over the lab's analog lines: the lab exchange (FXS span 3) rings the
/// gateway's FXO port (span 4) with caller ID, the analog trunk offers the call with the number,
/// the flow answers (the media loop borrows the port's device), hears the DTMF keyed in-band
/// and hangs up by going on hook — and the call model shows the same as for a PRI call.
@Suite("Built-in flow over an analog FXO port")
struct AnalogFlowLabTests {
    struct Lab {
        let simulator: LineSimulator
        let calls: CallService
        let media: CallMediaEngine
        let notifications: NIOLockedValueBox<[CallNotification]>

        init() throws {
            simulator = try LineSimulator()
            let pri = try PRILab(simulator: simulator, logger: Logger(label: "test"))
            media = CallMediaEngine.lab(simulator: simulator)
            calls = try CallService(pri: pri, store: nil, media: media, analog: AnalogLabSetup(simulator: simulator), logger: Logger(label: "test"))
            let notifications = NIOLockedValueBox<[CallNotification]>([])
            calls.manager.addObserver { notification in notifications.withLockedValue { $0.append(notification) } }
            self.notifications = notifications
            simulator.tick(count: 200)
        }

        var exchange: LabExchange { calls.exchanges[3]! }
        var trunk: AnalogTrunk { calls.analogTrunks[4]! }
    }

    @Test("an exchange call with caller ID and DTMF 123# is offered with the number, answered by the flow, digits collected, cleared with cause 16",
          arguments: LabExchange.CallerIDSignal.allCases)
    func exchangeCallThroughTheFlow(signal: LabExchange.CallerIDSignal) throws {
        let lab = try Lab()
        try lab.exchange.place(called: "95500", calling: "13800138000", port: 1, callerID: signal, dtmf: "123#")
        lab.simulator.tick(count: 30_000)
        let record = try #require(lab.calls.manager.recentlyEnded.first)
        #expect(record.trunk == .fxo && record.address == ChannelAddress(span: 4, channel: 1))
        #expect(record.caller == "13800138000" && record.callee == "95500")
        #expect(record.handler == "flow")
        #expect(record.digits == "123")
        #expect(record.cause == 16 && record.clearedBy == .local && record.failure == nil)
        let kinds = record.events.map(\.kind)
        #expect(kinds.first == .seized && kinds.last == .hangup)
        #expect(kinds.contains(.answered) && kinds.contains(.firstMedia))
        #expect(record.events.filter { $0.kind == .dtmf }.compactMap(\.detail) == ["1", "2", "3", "#"])
        #expect(record.events.map(\.atMs) == record.events.map(\.atMs).sorted())
        let exchangeCall = try #require(lab.exchange.ended.first)
        #expect(exchangeCall.clearedBy == "gateway" && exchangeCall.answeredAtMs != nil)
        // The port is the trunk's again and back on hook, ready for the next call.
        #expect(lab.trunk.portStates()[1] == "idle")
        #expect(lab.trunk.canPlaceCall(on: 1))
        #expect(lab.media.activeCalls == 0)
        #expect(lab.media.failures == 0)
    }

    /// What an upper layer sees of one call with trunk metadata (kind, span, channel, call id)
    /// and timings left out.
    static func shape(_ notifications: [CallNotification]) -> [String] {
        func call(_ record: CallRecord) -> String {
            [record.direction.rawValue, record.state.rawValue, record.caller ?? "-", record.callerPresentation ?? "-", record.callee ?? "-",
             record.redirecting ?? "-", record.trunkGroup == nil ? "no group" : "group", record.handler ?? "-", record.digits,
             record.cause.map(String.init) ?? "-", record.clearedBy?.rawValue ?? "-", record.failure?.rawValue ?? "-",
             record.events.map { $0.kind.rawValue + ($0.detail ?? "") }.joined(separator: ",")].joined(separator: " ")
        }
        return notifications.map { notification in
            switch notification {
            case .offered(let record): "offered " + call(record)
            case .originated(let record): "originated " + call(record)
            case let .stateChanged(record, from): "state from \(from.rawValue) " + call(record)
            case let .dtmf(record, digit, _): "dtmf \(digit) " + call(record)
            case .ended(let record): "ended " + call(record)
            case .recordingFinished(let record): "recording finished " + call(record)
            case let .channelChanged(_, state, callID): "channel \(state.rawValue) \(callID == nil ? "free" : "in call")"
            }
        }
    }

    @Test("the same scenario over PRI and over an analog FXO port gives the same notifications but for trunk metadata")
    func sameEventsAsPRI() throws {
        let analog = try Lab()
        try analog.exchange.place(called: "95500", calling: "13800138000", port: 2, callerID: .fsk, dtmf: "123#")
        analog.simulator.tick(count: 30_000)

        let pri = try Lab()
        try pri.calls.carriers[1]!.place(called: "95500", calling: "13800138000", dtmf: "123#")
        pri.simulator.tick(count: 30_000)

        let analogShape = Self.shape(analog.notifications.withLockedValue { $0 })
        let priShape = Self.shape(pri.notifications.withLockedValue { $0 })
        #expect(!analogShape.isEmpty && analogShape.last?.hasPrefix("ended inbound idle 13800138000") == true)
        #expect(analogShape == priShape)
        // And the metadata does differ: that is all that differs.
        #expect(analog.calls.manager.recentlyEnded.first?.trunk == .fxo)
        #expect(pri.calls.manager.recentlyEnded.first?.trunk == .pri)
    }

    @Test("an outbound call from the call manager on an FXO port is dialled after dial tone and answered by the lab exchange")
    func outboundAnsweredByTheExchange() throws {
        let lab = try Lab()
        let placed = try lab.calls.manager.originate(channel: ChannelAddress(span: 4, channel: 3), number: "88001234")
        #expect(placed.trunk == .fxo && placed.direction == .outbound)
        lab.simulator.tick(count: 15_000)
        let live = try #require(lab.calls.manager.call(placed.callID))
        #expect(live.state == .up)
        let kinds = live.events.map(\.kind)
        #expect(kinds.contains(.proceeding) && kinds.contains(.answered))
        let exchangeCall = try #require(lab.exchange.calls.first { $0.channel == 3 })
        #expect(exchangeCall.called == "88001234")
        #expect(exchangeCall.answeredAtMs != nil)
        // The exchange rang back for 2 s before answering: the answer comes after it.
        let proceeding = try #require(live.time(of: .proceeding))
        let answered = try #require(live.time(of: .answered))
        #expect(answered - proceeding >= 2_000)

        try lab.calls.manager.hangup(placed.callID)
        lab.simulator.tick(count: 3_000)
        let ended = try #require(lab.calls.manager.recentlyEnded.first { $0.callID == placed.callID })
        #expect(ended.clearedBy == .local && ended.cause == 16)
        #expect(lab.exchange.ended.first?.clearedBy == "gateway")
        #expect(lab.trunk.portStates()[3] == "idle")
        #expect(lab.media.activeCalls == 0)
    }

    @Test("a caller hanging up is detected by loop current drop and clears the call as the far end's")
    func callerHangsUpByLoopDrop() throws {
        let lab = try Lab()
        try lab.exchange.place(called: "95500", calling: "13900139000", port: 4, callerID: .dtmf, holdMs: 3_000)
        lab.simulator.tick(count: 15_000)
        let record = try #require(lab.calls.manager.recentlyEnded.first)
        #expect(record.caller == "13900139000")
        #expect(record.clearedBy == .remote && record.cause == 16)
        let exchangeCall = try #require(lab.exchange.ended.first)
        #expect(exchangeCall.clearedBy == "carrier")
        // Detected within the kewl-start open interval of the exchange opening the loop.
        let answered = try #require(record.time(of: .answered))
        let hangup = try #require(record.time(of: .hangup))
        #expect(hangup - answered >= 3_000 && hangup - answered < 3_700, "hang-up \(hangup - answered) ms after the answer")
        #expect(lab.trunk.portStates()[4] == "idle")
        #expect(lab.media.activeCalls == 0)
    }
}

@Suite("Disconnect supervision on a connected analog call")
struct AnalogSupervisionLabTests {
    @Test("the exchange's busy tone, heard by the media loop's detector while it owns the line, clears the call within three cycles")
    func busyToneWhileTheLoopOwnsTheLine() throws {
        let lab = try AnalogFlowLabTests.Lab()
        let placed = try lab.exchange.place(called: "95500", calling: "13800138000", port: 3, callerID: .dtmf, holdMs: 2_000, release: .busyTone)
        lab.simulator.tick(count: 15_000)
        let record = try #require(lab.calls.manager.recentlyEnded.first)
        #expect(record.clearedBy == .remote && record.cause == 16)
        let exchangeCall = try #require(lab.exchange.ended.first { $0.reference == placed.reference })
        // The exchange played busy from 2 s after the answer; three 700 ms cycles make 2.1 s.
        let answered = try #require(record.time(of: .answered))
        let hangup = try #require(record.time(of: .hangup))
        let afterBusy = hangup - answered - 2_000
        #expect(afterBusy >= 2_000 && afterBusy < 2_600, "cleared \(afterBusy) ms after busy tone began")
        #expect(exchangeCall.clearedBy == "carrier")
        #expect(lab.trunk.portStates()[3] == "idle")
        #expect(lab.media.activeCalls == 0)
    }
}
