import Foundation
import Logging
import Testing
import TrunkCore
import TrunkCTI
@testable import TrunkGateway
import TrunkHardware
import TrunkMedia

/// CTI verbs carried out on the lab and checked by ear: three carrier subscribers (a caller, an
/// agent and a supervisor) each send their own tone, and what each hears is measured.
@Suite("CTI verbs on the lab's audio")
struct CTIAudioPathTests {
    struct Party {
        let device: any ChannelDevice
        let frequency: Double
        var phase = 0.0
        var heard: [Int16] = []
    }

    final class Lab {
        let simulator: LineSimulator
        let calls: CallService
        let backend: GatewayCTIBackend
        let session = CTISessionInfo(sessionID: "s1", tokenName: "test", client: "test", permissions: Set(CTIPermission.allCases),
                                     scope: .everything, peer: "test", uid: nil, user: nil)
        var parties: [Party] = []

        init() throws {
            simulator = try LineSimulator()
            let pri = try PRILab(simulator: simulator, logger: Logger(label: "test"))
            let media = CallMediaEngine.lab(simulator: simulator, blockSize: .ms1)
            calls = try CallService(pri: pri, store: nil, media: media, logger: Logger(label: "test"))
            backend = GatewayCTIBackend(calls: calls, hub: CTIEventHub(), status: { [] }, tick: { pri.onTick($0) })
            simulator.tick(count: 200)
        }

        func perform(_ request: CTIRequest) async throws {
            _ = try await backend.perform(request, session: session)
        }

        /// Each party sends its tone (−16 dBm0 A-law) for `ms`, and keeps what it hears after `settle` ms.
        func run(ms: Int, settle: Int = 100) {
            for index in parties.indices {
                _ = parties[index].device.drainEvents()
                while parties[index].device.readBytes() != nil {}
                parties[index].heard = []
            }
            let amplitude = Double(SignalLevel.rms(dBm0: -16)) * 2.0.squareRoot()
            for tick in 0..<ms {
                for index in parties.indices {
                    var bytes = [UInt8](repeating: 0, count: 8)
                    for k in 0..<8 {
                        bytes[k] = G711.linearToAlaw(Int16(amplitude * sin(parties[index].phase)))
                        parties[index].phase += 2 * .pi * parties[index].frequency / 8000
                    }
                    parties[index].device.write(bytes)
                }
                simulator.tick()
                for index in parties.indices {
                    while let bytes = parties[index].device.readBytes() {
                        if tick >= settle { parties[index].heard += bytes.map(G711.alawToLinear) }
                    }
                }
            }
        }
    }

    /// Level in dBm0 of `frequency` in `samples` (Goertzel over the whole buffer).
    static func level(_ samples: [Int16], _ frequency: Double) -> Double {
        guard !samples.isEmpty else { return -120 }
        let coefficient = 2 * cos(2 * .pi * frequency / 8000)
        var s1 = 0.0, s2 = 0.0
        for sample in samples {
            let s0 = Double(sample) + coefficient * s1 - s2
            s2 = s1
            s1 = s0
        }
        let power = (s1 * s1 + s2 * s2 - coefficient * s1 * s2) / Double(samples.count * samples.count) * 2
        return Double(SignalLevel.dBm0(power: Float(max(power, 1e-9) / 2)))
    }

    func hears(_ party: Party, _ frequency: Double) -> Bool { Self.level(party.heard, frequency) > -30 }

    @Test("bridge: caller and agent hear each other; snoop listen, whisper and barge reach exactly who they should")
    func bridgeAndSnoop() async throws {
        let lab = try Lab()
        let carrier = lab.calls.carriers[1]!
        lab.calls.manager.claim(CallClaim(owner: "s1/c", spans: [2]))
        // Caller on B-channel 1, agent on 2, supervisor on 3 (each a carrier subscriber).
        for (channel, frequency) in [(1, 500.0), (2, 1_100.0), (3, 1_700.0)] {
            try carrier.place(called: "95500", calling: "party\(channel)", channel: channel)
            let device = try lab.simulator.openChannel(channel)
            try device.setBlockSize(8)
            try device.setBufferPolicy(.immediate, buffers: 32)
            lab.parties.append(Party(device: device, frequency: frequency))
        }
        lab.simulator.tick(count: 300)
        let live = lab.calls.manager.live.sorted { $0.address.channel < $1.address.channel }
        #expect(live.count == 3)
        let (caller, agent, supervisor) = (live[0].callID, live[1].callID, live[2].callID)
        for call in [caller, agent, supervisor] { try await lab.perform(.answer(.call(call))) }
        lab.simulator.tick(count: 300)

        try await lab.perform(.bridgeCreate(bridgeID: "b1", members: [.call(caller), .call(agent)]))
        lab.run(ms: 600)
        #expect(hears(lab.parties[0], 1_100) && !hears(lab.parties[0], 500) && !hears(lab.parties[0], 1_700))
        #expect(hears(lab.parties[1], 500) && !hears(lab.parties[1], 1_700))
        #expect(!hears(lab.parties[2], 500) && !hears(lab.parties[2], 1_100))

        // Listen: the supervisor hears both; nobody hears the supervisor.
        try await lab.perform(.snoop(CTISnoop(target: .call(agent), spy: .both, whisper: .none, supervisor: .call(supervisor), snoopID: "n1")))
        lab.run(ms: 600)
        #expect(hears(lab.parties[2], 500) && hears(lab.parties[2], 1_100))
        #expect(!hears(lab.parties[0], 1_700) && !hears(lab.parties[1], 1_700))
        #expect(hears(lab.parties[0], 1_100) && hears(lab.parties[1], 500))
        try await lab.perform(.snoopStop(snoopID: "n1"))

        // Whisper: only the agent hears the supervisor.
        try await lab.perform(.snoop(CTISnoop(target: .call(agent), spy: .both, whisper: .in, supervisor: .call(supervisor), snoopID: "w1")))
        lab.run(ms: 600)
        #expect(hears(lab.parties[1], 1_700), "the agent hears the whisper")
        #expect(!hears(lab.parties[0], 1_700), "the caller does not")
        #expect(hears(lab.parties[0], 1_100) && hears(lab.parties[1], 500))
        try await lab.perform(.snoopStop(snoopID: "w1"))

        // Barge: both hear the supervisor.
        try await lab.perform(.snoop(CTISnoop(target: .call(agent), spy: .both, whisper: .both, supervisor: .call(supervisor), snoopID: "x1")))
        lab.run(ms: 600)
        #expect(hears(lab.parties[0], 1_700) && hears(lab.parties[1], 1_700))

        // Hold and retrieve are stamped on the call and shown on its channel.
        try await lab.perform(.hold(.call(caller)))
        #expect(lab.calls.manager.call(caller)?.state == .held)
        try await lab.perform(.unhold(.call(caller)))
        let retrieved = try #require(lab.calls.manager.call(caller))
        #expect(retrieved.state == .up && retrieved.time(of: .held) != nil && retrieved.time(of: .retrieved) != nil)

        // Hang-up through CTI clears the caller; the carrier sees cause 16.
        try await lab.perform(.hangup(.call(caller), cause: 16))
        lab.simulator.tick(count: 300)
        #expect(carrier.ended.first { $0.calling == "party1" }?.cause == 16)
    }

    @Test("play reaches the caller; an unknown tone or prompt is refused with not found")
    func playback() async throws {
        let lab = try Lab()
        let carrier = lab.calls.carriers[1]!
        lab.calls.manager.claim(CallClaim(owner: "s1/c", spans: [2]))
        try carrier.place(called: "95500", calling: "caller", channel: 5)
        let device = try lab.simulator.openChannel(5)
        try device.setBlockSize(8)
        try device.setBufferPolicy(.immediate, buffers: 32)
        lab.parties.append(Party(device: device, frequency: 0))
        lab.simulator.tick(count: 300)
        let call = try #require(lab.calls.manager.live.first).callID
        try await lab.perform(.answer(.call(call)))
        lab.simulator.tick(count: 100)
        try await lab.perform(.play(CTIPlay(target: .call(call), source: .tones(["dial"]), bargeIn: false, opID: "p1")))
        lab.run(ms: 800, settle: 50)
        #expect(Lab.levelCheck(lab.parties[0].heard, 450) > -20, "the caller hears 450 Hz dial tone")
        await #expect(throws: CTIBackendError.self) {
            try await lab.perform(.play(CTIPlay(target: .call(call), source: .tones(["nonsense"]), bargeIn: false, opID: "p2")))
        }
        await #expect(throws: CTIBackendError.self) {
            try await lab.perform(.play(CTIPlay(target: .call(call), source: .files(["missing"]), bargeIn: false, opID: "p3")))
        }
    }
}

extension CTIAudioPathTests.Lab {
    static func levelCheck(_ samples: [Int16], _ frequency: Double) -> Double { CTIAudioPathTests.level(samples, frequency) }
}
