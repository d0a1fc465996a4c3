import Testing
import TrunkCore
import TrunkHardware
@testable import TrunkMedia

@Suite("Media loop control: device events, removal, full queues")
struct LoopControlTests {
    @Test("events of a device the loop owns (ring on an FXO port) are forwarded, and its audio keeps flowing")
    func deviceEvents() throws {
        let simulator = try LineSimulator()
        let loop = MediaLoop(configuration: MediaLoopConfiguration(blockSize: .ms8, maximumChannels: 4, maximumConferences: 1))
        loop.attach(to: simulator)
        // FXS port 1 (channel 63) is the exchange's side, wired to FXO port 1 (channel 67).
        let fxs = try simulator.openChannel(63)
        let fxo = try simulator.openChannel(67)
        loop.send(.add(try MediaChannel(device: fxo, blockSize: .ms8)))
        try fxs.hook(.ring)
        var events: [MediaEvent] = []
        for _ in 0..<1500 {
            simulator.tick()
            while fxs.nextEvent() != nil {}
            var buffer = [UInt8](repeating: 0, count: 64)
            while case .transferred = buffer.withUnsafeMutableBytes({ fxs.read(into: $0) }) {}
            while let event = loop.nextEvent() { events.append(event) }
        }
        let deviceEvents = events.compactMap { event -> ChannelEvent.Kind? in
            if case .device(let device) = event.kind, event.channel == 67 { return device.kind } else { return nil }
        }
        #expect(deviceEvents.contains(.ringBegin))
        #expect(deviceEvents.contains(.ringOffHook))
        #expect(events.contains { $0.channel == 67 && $0.kind == .firstMedia })
    }

    @Test("a removed channel leaves its bridge, is reported and handed back; its partner goes silent")
    func remove() throws {
        let lab = try MediaLoopLab(blockSize: .ms1, timeslots: [1, 2])
        lab.loop.send(.connect(lab.near(1), lab.near(2)))
        var random = SignalRandom(state: 12)
        lab.farEnd(1).stream = random.alawNoise(count: 8000, amplitude: 9000)
        lab.run(ticks: 100)
        #expect(lab.farEnd(2).received.suffix(80).contains { $0 != G711.alawSilence })
        lab.loop.send(.remove(channel: lab.near(1)))
        lab.run(ticks: 100)
        #expect(lab.events.contains { $0.channel == lab.near(1) && $0.kind == .channelRemoved })
        #expect(lab.farEnd(2).received.suffix(400).allSatisfy { $0 == G711.alawSilence })
        // Commands naming it now are refused, and say so.
        lab.loop.send(.setMuted(channel: lab.near(1), muted: true))
        lab.run(ticks: 2)
        #expect(lab.events.last == MediaEvent(channel: lab.near(1), kind: .commandRejected, sampleTime: 0))
        #expect(lab.loop.statistics.rejectedCommands.load(ordering: .relaxed) == 1)
    }

    @Test("a full event queue drops and counts events; the loop keeps running")
    func eventOverflow() throws {
        let simulator = try LineSimulator()
        let loop = MediaLoop(configuration: MediaLoopConfiguration(blockSize: .ms1, maximumChannels: 16, maximumConferences: 1,
                                                                   commandCapacity: 64, eventCapacity: 4))
        loop.attach(to: simulator)
        // Ten channels each report their first media: more events than the queue holds.
        for timeslot in 1...10 {
            loop.send(.add(try MediaChannel(device: try simulator.openChannel(31 + timeslot), blockSize: .ms1)))
        }
        simulator.tick(count: 50)
        #expect(loop.statistics.droppedEvents.load(ordering: .relaxed) == 6)
        #expect(loop.statistics.ticks.load(ordering: .relaxed) == 50)
        var kept = 0
        while loop.nextEvent() != nil { kept += 1 }
        #expect(kept == 4)
    }
}
