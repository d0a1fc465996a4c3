import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Testing
@testable import TrunkGateway
import TrunkCore
import TrunkHardware

/// Maintenance blocking and line tests on the embedded default's call side, in process: the
/// lab exchange (FXS span 3) wired to the gateway's FXO lines (span 4), E1 spans 1 and 2.
@Suite("Channel maintenance and line tests in the lab")
struct ChannelMaintenanceLabTests {
    struct Lab {
        let simulator: LineSimulator
        let calls: CallService
        let node: GatewayNode
        let notifications: NIOLockedValueBox<[CallNotification]>

        init() throws {
            simulator = try LineSimulator()
            let pri = try PRILab(simulator: simulator, logger: Logger(label: "test"))
            calls = try CallService(pri: pri, store: nil, media: CallMediaEngine.lab(simulator: simulator),
                                    analog: AnalogLabSetup(simulator: simulator), logger: Logger(label: "test"))
            node = GatewayNode(simulator: simulator, clock: nil, pri: pri, calls: calls, logger: Logger(label: "test"))
            let notifications = NIOLockedValueBox<[CallNotification]>([])
            calls.manager.addObserver { notification in notifications.withLockedValue { $0.append(notification) } }
            self.notifications = notifications
            simulator.tick(count: 200)
        }

        var exchange: LabExchange { calls.exchanges[3]! }
        var trunk: AnalogTrunk { calls.analogTrunks[4]! }
        var offered: [CallRecord] {
            notifications.withLockedValue { $0.compactMap { if case .offered(let record) = $0 { record } else { nil } } }
        }
    }

    @Test("a blocked FXO line is busied out and never hunted: originating on the analog group takes the next line; unblocked, it is hunted again")
    func originateSkipsBlockedLine() throws {
        let lab = try Lab()
        let line1 = ChannelAddress(span: 4, channel: 1)
        let report = try lab.node.setBlocked(line1, true, force: false)
        #expect(report.maintenance == .blocked && report.kind == "fxo")
        lab.simulator.tick(count: Int(AnalogTrunk.busyOutGuardMs) + 100)
        #expect(lab.trunk.maintenance(1)?.busiedOut == true)
        #expect(try lab.simulator.channelParameters(span: 4).first { $0.chanPos == 1 }?.hookState == .offHook)
        #expect(lab.exchange.maintenance(1)?.state != "idle", "the exchange sees the line seized, so busy")
        #expect(throws: TrunkError.self) { try lab.exchange.place(called: "95500", calling: "1", port: 1) }
        #expect(lab.calls.manager.channelStates().first { $0.address == line1 }?.state == .blocked)

        let call = try lab.calls.manager.originate(group: "analog", number: "8001")
        #expect(call.address == ChannelAddress(span: 4, channel: 2), "the hunt passes the blocked line")
        #expect(throws: TrunkError.self) { try lab.calls.manager.originate(channel: line1, number: "8001") }
        try lab.calls.manager.hangup(call.callID)
        lab.simulator.tick(count: 3_000)

        #expect(try lab.node.setBlocked(line1, false, force: false).maintenance == .inService)
        lab.simulator.tick(count: 3_000)
        #expect(lab.trunk.maintenance(1)?.busiedOut == false)
        #expect(try lab.simulator.channelParameters(span: 4).first { $0.chanPos == 1 }?.hookState == .onHook)
        #expect(lab.exchange.maintenance(1)?.state == "idle", "the exchange releases the line once it is on hook")
        let again = try lab.calls.manager.originate(group: "analog", number: "8002")
        #expect(again.address == line1)
    }

    @Test("a ring on a blocked FXO line is never offered nor answered; once it stops, the line is busied out")
    func ringOnBlockedLine() throws {
        let lab = try Lab()
        let placed = try lab.exchange.place(called: "95500", calling: "13800138000", port: 1, callerID: .dtmf)
        _ = try lab.node.setBlocked(ChannelAddress(span: 4, channel: 1), true, force: false)
        lab.simulator.tick(count: 15_000)
        #expect(lab.offered.isEmpty, "never offered")
        #expect(lab.exchange.calls.first { $0.reference == placed.reference }?.answeredAtMs == nil, "never answered")
        #expect(lab.trunk.maintenance(1)?.refusedRings == 1)
        #expect(lab.trunk.maintenance(1)?.busiedOut == false, "not off hook while the exchange rings it")
        try lab.exchange.hangup(reference: placed.reference)
        lab.simulator.tick(count: 10_000)
        #expect(lab.trunk.maintenance(1)?.busiedOut == true)
    }

    @Test("a line test on a ringing FXO line is refused (its caller ID needs the audio); the D-channel carries none")
    func lineTestRefusals() throws {
        let lab = try Lab()
        let tests = try #require(lab.node.lineTests)
        try lab.exchange.place(called: "95500", calling: "13800138000", port: 2, callerID: .fsk)
        lab.simulator.tick(count: 1_500)
        #expect(lab.trunk.portStates()[2] != "idle", "the line rings")
        do {
            _ = try tests.startTone(ChannelAddress(span: 4, channel: 2), frequencyHz: 1004, levelDBm0: -10, seconds: 1)
            Issue.record("a tone on a ringing line was accepted")
        } catch {
            #expect(error.code == .busy && error.message.contains("its line is busy setting up a call"), "\(error.message)")
        }
        #expect(throws: TrunkError.self) { try lab.node.handleLineTestChannelCheck(span: 2, channel: 16) }
        // An idle line next to it is tested as usual, and given back.
        let report = try tests.startTone(ChannelAddress(span: 4, channel: 3), frequencyHz: 1004, levelDBm0: -10, seconds: nil)
        #expect(report.playing)
        try tests.stopTone(ChannelAddress(span: 4, channel: 3))
        lab.simulator.tick(count: 50)
        #expect(lab.trunk.canPlaceCall(on: 3), "the line is the trunk's again")
    }

    @Test("blocking a B-channel with a call up is pending; --force clears it with cause 8 and the channel is blocked")
    func forceOnPRI() throws {
        let lab = try Lab()
        let carrier = try #require(lab.calls.carriers[1])
        _ = try carrier.place(called: "95505", calling: "13800138000", channel: 5)
        lab.simulator.tick(count: 2_000)
        let address = ChannelAddress(span: 2, channel: 5)
        let call = try #require(lab.calls.manager.channelStates().first { $0.address == address }?.call)
        let pending = try lab.node.setBlocked(address, true, force: false)
        #expect(pending.maintenance == .blockingPending && pending.call == call && pending.kind == "pri")
        #expect(lab.node.status().maintenance?.map(\.maintenance) == [.blockingPending])
        let forced = try lab.node.setBlocked(address, true, force: true)
        #expect(forced.clearedCall == call && forced.maintenance == .blocked)
        lab.simulator.tick(count: 2_000)
        let ended = try #require(lab.calls.manager.recentlyEnded.first { $0.callID == call })
        #expect(ended.cause == 8 && ended.clearedBy == .local && ended.causeText == "Preemption")
        #expect(try lab.node.channelMaintenance(address).maintenance == .blocked)
        #expect(lab.calls.manager.channelStates().first { $0.address == address }?.state == .blocked)
    }
}

/// A line test whose listener stalls: its own ring drops and counts blocks — the loop never
/// waits for it — and the stream reports them and marks the gap by sample time.
@Suite("Line test streaming with a slow client", .serialized)
struct SlowMonitorTests {
    final class StallingClient: @unchecked Sendable {
        let lock = NIOLock()
        var chunks: [MonitorChunk] = []
        var stalled = false

        func send(_ line: ByteBuffer) async throws {
            let chunk = try JSONDecoder().decode(MonitorNotification.self, from: Data(line.readableBytesView)).params
            let stall = lock.withLock { () -> Bool in
                chunks.append(chunk)
                defer { stalled = true }
                return !stalled
            }
            // The first chunk takes 3 s to go out: longer than the tap's 2 s ring.
            if stall { try await Task.sleep(for: .seconds(3)) }
        }
    }

    @Test("a monitor that cannot send for 3 s loses blocks (the loop ran on), counts them and leaves a gap in sample time")
    func stalledMonitor() async throws {
        let simulator = try LineSimulator()
        let pri = try PRILab(simulator: simulator, logger: Logger(label: "test"))
        let calls = try CallService(pri: pri, store: nil, media: CallMediaEngine.lab(simulator: simulator, blockSize: .ms20),
                                    analog: AnalogLabSetup(simulator: simulator), logger: Logger(label: "test"))
        let node = GatewayNode(simulator: simulator, clock: nil, pri: pri, calls: calls, logger: Logger(label: "test"))
        let clock = SimulatorClock(simulator: simulator)
        try clock.start()
        defer { clock.stop() }
        let client = StallingClient()
        let tests = try #require(node.lineTests)
        let report = try await tests.monitor(ChannelMonitorParams(span: 2, channel: 1, seconds: 8, stereo: false, preEchoCanceller: false),
                                             stream: ControlStream { try await client.send($0) })
        let chunks = client.lock.withLock { client.chunks }
        // 8 s asked: well past the stall and the ring's 2.56 s, so audio follows every gap.
        #expect(report.ended == "seconds" && report.frames == 64_000)
        #expect(report.droppedBlocks > 0, "blocks were dropped while the client stalled")
        #expect(chunks.last?.droppedBlocks == report.droppedBlocks, "the stream reports the count")
        let gaps = zip(chunks, chunks.dropFirst()).filter { $0.sampleTime + UInt64($0.frames) != $1.sampleTime }
        let missing = gaps.reduce(UInt64(0)) { $0 + ($1.1.sampleTime - $1.0.sampleTime - UInt64($1.0.frames)) }
        // Equal when the last poll finds room in the ring; on a starved machine the last poll can
        // come while the ring is dropping, and those drops lie after the stream's last frame (they
        // are counted, but no later chunk shows their gap): hence the bound.
        #expect(!gaps.isEmpty && missing > 0 && missing <= report.droppedBlocks * 160,
                "the sample clock shows where audio is missing: \(gaps.map { ($0.0.sampleTime, $0.0.frames, $0.1.sampleTime) }), \(report.droppedBlocks) dropped")
    }
}
