import Testing
import TrunkCore
import TrunkHardware
@testable import TrunkMedia

/// The "Audio path" acceptance of issue #5, on the line simulator: what the far ends of calls
/// on span 1 hear of each other through the loop, which owns the call centre side (span 2).
@Suite("Media loop audio path")
struct AudioPathTests {
    @Test("a bridge between two calls carries audio both ways bit-exact, at 1, 8 and 20 ms blocks",
          arguments: MediaBlockSize.allCases)
    func bridgeIsBitExact(blockSize: MediaBlockSize) throws {
        let lab = try MediaLoopLab(blockSize: blockSize, timeslots: [1, 2])
        lab.loop.send(.connect(lab.near(1), lab.near(2)))
        var random = SignalRandom(state: 7)
        // Every byte value crosses each way, so no code is remapped (0xD5 first would hide the start).
        let a = [UInt8(0x2A)] + (0...255).map(UInt8.init) + random.alawNoise(count: 1743, amplitude: 12000)
        let b = [UInt8(0x6B)] + (0...255).reversed().map(UInt8.init) + random.alawNoise(count: 1743, amplitude: 12000)
        lab.farEnd(1).stream = a
        lab.farEnd(2).stream = b
        lab.run(ticks: 400)

        let atTwo = lab.farEnd(2).received
        let atOne = lab.farEnd(1).received
        let forward = try #require(offset(of: a[...], in: atTwo, maximumDelay: 800), "far end 2 never heard far end 1's stream intact")
        let backward = try #require(offset(of: b[...], in: atOne, maximumDelay: 800), "far end 1 never heard far end 2's stream intact")
        // Before the stream: the other side's idle code, unaltered too.
        #expect(atTwo[..<forward].allSatisfy { $0 == G711.alawSilence })
        #expect(atOne[..<backward].allSatisfy { $0 == G711.alawSilence })
        // Latency each way: the E1 hops, the block read, one block of transmit margin, and up
        // to a block more where joining the bridge moved a channel to its partner's phase.
        #expect(forward <= 3 * blockSize.samples + 4 * 8)
        #expect(backward <= 3 * blockSize.samples + 4 * 8)
        #expect(lab.events.filter { $0.kind == .firstMedia }.count == 2)
    }

    @Test("disconnecting a bridge returns both calls to silence")
    func disconnect() throws {
        let lab = try MediaLoopLab(blockSize: .ms1, timeslots: [1, 2])
        lab.loop.send(.connect(lab.near(1), lab.near(2)))
        var random = SignalRandom(state: 8)
        lab.farEnd(1).stream = random.alawNoise(count: 8000, amplitude: 8000)
        lab.run(ticks: 100)
        #expect(lab.farEnd(2).received.suffix(80).contains { $0 != G711.alawSilence })
        lab.loop.send(.disconnect(lab.near(2)))
        lab.run(ticks: 100)
        #expect(lab.farEnd(2).received.suffix(400).allSatisfy { $0 == G711.alawSilence })
    }

    @Test("a conference of 5 parties delivers each the mix of the other four")
    func fiveParties() throws {
        let timeslots = [1, 2, 3, 4, 5]
        let lab = try MediaLoopLab(blockSize: .ms8, timeslots: timeslots)
        var random = SignalRandom(state: 11)
        var streams: [[UInt8]] = []
        for timeslot in timeslots {
            lab.loop.send(.joinConference(channel: lab.near(timeslot), conference: 3, side: timeslot == 1 ? .trunk : .agent, mode: .talk))
            let stream = random.alawNoise(count: 4000, amplitude: 6000)
            streams.append(stream)
            lab.farEnd(timeslot).stream = stream
        }
        lab.run(ticks: 600)

        var delays: Set<Int> = []
        for (index, timeslot) in timeslots.enumerated() {
            let others = streams.enumerated().filter { $0.offset != index }.map(\.element)
            let expected = alawMix(others)
            // The steady part: from 100 samples in, past the conference's first block.
            let window = expected[100..<3900]
            let found = try #require(offset(of: window, in: lab.farEnd(timeslot).received, maximumDelay: 1200),
                                     "party \(timeslot) did not hear exactly the other four")
            delays.insert(found - 100)
            // Its own voice is not in what it hears: with it, the sum differs.
            let withOwn = alawMix(streams)[100..<3900]
            #expect(!lab.farEnd(timeslot).received[found..<(found + window.count)].elementsEqual(withOwn))
        }
        // Parties moved to the conference's phase may hear it up to a block later than others.
        #expect(delays.max()! - delays.min()! < lab.blockSize.samples)
    }

    /// A caller (trunk side), an agent and a supervisor in `mode`: what each far end hears.
    func supervised(_ mode: ConferenceMode) throws -> (caller: [UInt8], agent: [UInt8], supervisor: [UInt8], streams: [[UInt8]]) {
        let lab = try MediaLoopLab(blockSize: .ms20, timeslots: [1, 2, 3])
        lab.loop.send(.joinConference(channel: lab.near(1), conference: 0, side: .trunk, mode: .talk))
        lab.loop.send(.joinConference(channel: lab.near(2), conference: 0, side: .agent, mode: .talk))
        lab.loop.send(.joinConference(channel: lab.near(3), conference: 0, side: .supervisor, mode: mode))
        var random = SignalRandom(state: 21)
        let streams = (0..<3).map { _ in random.alawNoise(count: 4000, amplitude: 7000) }
        for timeslot in 1...3 { lab.farEnd(timeslot).stream = streams[timeslot - 1] }
        lab.run(ticks: 700)
        return (lab.farEnd(1).received, lab.farEnd(2).received, lab.farEnd(3).received, streams)
    }

    func hears(_ received: [UInt8], _ parties: [[UInt8]]) -> Bool {
        offset(of: alawMix(parties)[200..<3800], in: received, maximumDelay: 1500) != nil
    }

    @Test("whisper reaches only the agent side; the supervisor hears both")
    func whisper() throws {
        let (caller, agent, supervisor, s) = try supervised(.whisper)
        #expect(hears(caller, [s[1]]), "the caller hears the agent alone")
        #expect(hears(agent, [s[0], s[2]]), "the agent hears the caller and the supervisor")
        #expect(hears(supervisor, [s[0], s[1]]), "the supervisor hears caller and agent")
        #expect(!hears(caller, [s[1], s[2]]))
    }

    @Test("listen hears both and reaches no one")
    func listen() throws {
        let (caller, agent, supervisor, s) = try supervised(.listen)
        #expect(hears(caller, [s[1]]))
        #expect(hears(agent, [s[0]]))
        #expect(hears(supervisor, [s[0], s[1]]))
    }

    @Test("barge reaches both")
    func barge() throws {
        let (caller, agent, supervisor, s) = try supervised(.barge)
        #expect(hears(caller, [s[1], s[2]]))
        #expect(hears(agent, [s[0], s[2]]))
        #expect(hears(supervisor, [s[0], s[1]]))
    }

    @Test("a muted party hears the others and is heard by no one")
    func mute() throws {
        let lab = try MediaLoopLab(blockSize: .ms8, timeslots: [1, 2, 3])
        for timeslot in 1...3 {
            lab.loop.send(.joinConference(channel: lab.near(timeslot), conference: 1, side: .agent, mode: .talk))
        }
        lab.loop.send(.setMuted(channel: lab.near(1), muted: true))
        var random = SignalRandom(state: 5)
        let s = (0..<3).map { _ in random.alawNoise(count: 4000, amplitude: 7000) }
        for timeslot in 1...3 { lab.farEnd(timeslot).stream = s[timeslot - 1] }
        lab.run(ticks: 600)
        #expect(hears(lab.farEnd(1).received, [s[1], s[2]]))
        #expect(hears(lab.farEnd(2).received, [s[2]]))
        #expect(hears(lab.farEnd(3).received, [s[1]]))
    }
}
