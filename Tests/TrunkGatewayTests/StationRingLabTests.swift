import Foundation
import Logging
import NIOCore
import Testing
import TrunkAnalog
import TrunkCore
@testable import TrunkCTI
@testable import TrunkGateway
import TrunkHardware

/// `channel.ring` on the lab with its FXS card as stations: the gateway rings the phone on an
/// FXS port (China's 1 s on / 4 s off, caller ID in FSK or DTMF), the lab's telephone on the
/// cabled FXO port hears the ring, reads the caller ID and picks up — or lets it ring until
/// the timeout — and the call model and the CTI events show it as any other call.
@Suite("channel.ring to FXS stations")
struct StationRingLabTests {
    final class Lab {
        let simulator: LineSimulator
        let calls: CallService
        let hub = CTIEventHub(capacity: 4096)
        let backend: GatewayCTIBackend
        let session = CTISessionInfo(sessionID: "s1", tokenName: "test", client: "test", permissions: Set(CTIPermission.allCases),
                                     scope: .everything, peer: "test", uid: nil, user: nil)

        init(stationConfigurations: [Int: FXSConfiguration] = [:]) throws {
            simulator = try LineSimulator()
            let pri = try PRILab(simulator: simulator, logger: Logger(label: "test"))
            let media = CallMediaEngine.lab(simulator: simulator)
            calls = try CallService(pri: pri, store: nil, media: media,
                                    analog: AnalogLabSetup(simulator: simulator, role: .stations, stationConfigurations: stationConfigurations),
                                    logger: Logger(label: "test"))
            backend = GatewayCTIBackend(calls: calls, hub: hub, status: { [] }, tick: { pri.onTick($0) })
            simulator.tick(count: 200)
        }

        var phones: LabPhones { calls.phones[4]! }
        var stations: AnalogStations { calls.stations[3]! }

        func ring(channel: Int, callerID: String?, timeoutMs: Int = 60_000, callID: String = "ring-1") async throws {
            _ = try await backend.perform(
                .ring(CTIRing(channel: channel, callerID: callerID, timeoutMilliseconds: timeoutMs, callID: callID, opID: "op-\(callID)")),
                session: session)
        }

        /// Ticks until `condition` holds or `limitMs` of lab time have passed; returns whether it held.
        func tick(upTo limitMs: Int, until condition: () -> Bool) -> Bool {
            for _ in 0..<(limitMs / 10) {
                if condition() { return true }
                simulator.tick(count: 10)
            }
            return condition()
        }

        /// The CTI events published so far, as JSON objects (`params` of each notification).
        var events: [[String: Any]] {
            var records: [EventRecord] = []
            _ = hub.records(after: 0, limit: 4096, into: &records)
            return records.compactMap { record in
                let line = Data(record.bytes.readableBytesView)
                return (try? JSONSerialization.jsonObject(with: line) as? [String: Any])?["params"] as? [String: Any]
            }
        }

        func events(of call: String) -> [(type: String, fields: [String: Any])] {
            events.filter { $0["call_id"] as? String == call }.map { ($0["type"] as? String ?? "?", $0) }
        }
    }

    @Test("ringing with FSK caller ID: the phone sees the ring and 13800138000, picks up, channel.answered; then hangs up",
          arguments: [false, true])
    func ringAnsweredAndHungUp(dtmf: Bool) async throws {
        var configuration = AnalogStations.defaultConfiguration
        if dtmf { configuration.callerID = .dtmf(.a) }
        let lab = try Lab(stationConfigurations: [63: configuration])
        try await lab.ring(channel: 63, callerID: "13800138000")
        let call = try #require(lab.calls.manager.call("ring-1"))
        #expect(call.trunk == .fxs && call.direction == .outbound && call.address == ChannelAddress(span: 3, channel: 1))

        #expect(lab.tick(upTo: 12_000) { lab.phones.observation(port: 1)?.answeredAtMs != nil }, "the phone never picked up")
        let seen = try #require(lab.phones.observation(port: 1))
        #expect(seen.callerID == "13800138000")
        #expect(seen.callerIDMethod == (dtmf ? "dtmf" : "fskV23"),
                "caller ID came as \(seen.callerIDMethod ?? "nothing")")
        #expect(lab.tick(upTo: 500) { lab.calls.manager.call("ring-1")?.state == .up })
        let types = lab.events(of: "ring-1").map(\.type)
        #expect(types.contains("channel.progress"), "no ringing (alerting) event: \(types)")
        let answered = try #require(lab.events(of: "ring-1").first { $0.type == "channel.answered" })
        #expect(answered.fields["op_id"] as? String == "op-ring-1")
        #expect(answered.fields["channel"] as? Int == 63)
        #expect(lab.stations.portStates()[1] == "connected")

        // The agent hangs up: the call ends from the station's side with cause 16.
        lab.simulator.tick(count: 500)
        try lab.phones.hangUp(port: 1)
        #expect(lab.tick(upTo: 3_000) { lab.calls.manager.call("ring-1")?.isEnded ?? true })
        let ended = try #require(lab.calls.manager.recentlyEnded.first { $0.callID == "ring-1" })
        #expect(ended.cause == 16 && ended.clearedBy == .remote)
        let hangup = try #require(lab.events(of: "ring-1").first { $0.type == "channel.hangup" })
        #expect(hangup.fields["cause"] as? Int == 16)
        #expect(!lab.events(of: "ring-1").contains { $0.type == "op.failed" })
        #expect(lab.tick(upTo: 2_000) { lab.stations.canPlaceCall(on: 1) }, "the station port is not free again")
    }

    @Test("a phone nobody picks up: the ring times out with op.failed timeout and cause 19, the ringing stops")
    func ringTimesOut() async throws {
        let lab = try Lab()
        try lab.phones.setAnswers(false, port: 2)
        try await lab.ring(channel: 64, callerID: "10086", timeoutMs: 7_000, callID: "ring-2")
        #expect(lab.tick(upTo: 9_000) { lab.calls.manager.call("ring-2")?.isEnded ?? true })
        let failed = try #require(lab.events(of: "ring-2").first { $0.type == "op.failed" })
        #expect(failed.fields["reason"] as? String == "timeout")
        #expect(failed.fields["cause"] as? Int == 19)
        #expect(failed.fields["op_id"] as? String == "op-ring-2")
        let hangup = try #require(lab.events(of: "ring-2").first { $0.type == "channel.hangup" })
        #expect(hangup.fields["cause"] as? Int == 19)
        // The phone rang (and got the number) but never went off hook; then the ringing stopped.
        #expect(lab.tick(upTo: 8_000) { lab.phones.observation(port: 2)?.ringingStoppedAtMs != nil })
        let seen = try #require(lab.phones.observation(port: 2))
        #expect(seen.ringingAtMs != nil && seen.answeredAtMs == nil)
        #expect(seen.callerID == "10086")
        #expect(!lab.events(of: "ring-2").contains { $0.type == "channel.answered" })
        #expect(lab.stations.portStates()[2] == "idle")
    }

    @Test("the client hangs up while the phone rings: op.failed abandoned, the ringing stops")
    func ringAbandoned() async throws {
        let lab = try Lab()
        try lab.phones.setAnswers(false, port: 3)
        try await lab.ring(channel: 65, callerID: nil, callID: "ring-3")
        lab.simulator.tick(count: 2_000)
        _ = try await lab.backend.perform(.hangup(.call("ring-3"), cause: 16), session: lab.session)
        #expect(lab.tick(upTo: 1_000) { lab.calls.manager.call("ring-3")?.isEnded ?? true })
        let failed = try #require(lab.events(of: "ring-3").first { $0.type == "op.failed" })
        #expect(failed.fields["reason"] as? String == "abandoned")
        #expect(lab.stations.portStates()[3] == "idle")
        #expect(lab.tick(upTo: 8_000) { lab.phones.state(port: 3) == "idle" })
    }

    @Test("ringing a channel that is not a station is refused, naming the station channels")
    func ringNonStationRefused() async throws {
        let lab = try Lab()
        var thrown: CTIBackendError?
        do {
            try await lab.ring(channel: 33, callerID: nil, callID: "ring-4")
        } catch {
            thrown = error as? CTIBackendError
        }
        let error = try #require(thrown)
        #expect(error.message.contains("not an FXS station port"))
        #expect(error.message.contains("63, 64, 65, 66"))
    }
}
