import Testing
import TrunkCore
@testable import TrunkHardware

@Suite("Simulated D-channel (HDLC over TS16)")
struct DChannelTests {
    /// Sends `frames` from one D-channel to the other, ticking as the line carries them, and
    /// returns what the receiver read (each with its 2 FCS bytes) plus the events it saw.
    func carry(_ frames: [[UInt8]], from sender: any ChannelDevice, to receiver: any ChannelDevice,
               on simulator: LineSimulator) -> (frames: [[UInt8]], events: [ChannelEvent]) {
        var pending = frames[...]
        var received: [[UInt8]] = []
        var events: [ChannelEvent] = []
        var idleTicks = 0
        while idleTicks < 200 {
            while let frame = pending.first, sender.write(frame + [0, 0]) == .transferred(frame.count + 2) {
                pending = pending.dropFirst()
            }
            simulator.tick()
            idleTicks += 1
            while true {
                if let frame = receiver.readBytes() {
                    received.append(frame)
                    idleTicks = 0
                } else if let event = receiver.nextEvent() {
                    events.append(event)
                    idleTicks = 0
                } else {
                    break
                }
            }
            if !pending.isEmpty { idleTicks = 0 }
        }
        return (received, events)
    }

    @Test("frames arrive in order and intact, both directions, with a valid FCS")
    func framesInOrder() throws {
        let simulator = try LineSimulator()
        let network = try simulator.openChannel(Lab.span1DChannel)
        let user = try simulator.openChannel(Lab.span2DChannel)
        var random = TestRandom(state: 7)
        let frames = (0..<300).map { _ in random.bytes(random.int(in: 3...260)) }

        for (sender, receiver) in [(network, user), (user, network)] {
            let result = carry(frames, from: sender, to: receiver, on: simulator)
            #expect(result.events.isEmpty)
            #expect(result.frames.count == frames.count)
            for (sent, got) in zip(frames, result.frames) {
                #expect(Array(got.dropLast(2)) == sent)
                let fcs = FrameCheckSequence.compute(sent)
                #expect(got.suffix(2) == [UInt8(fcs & 0xFF), UInt8(fcs >> 8)])
            }
        }
        #expect(try simulator.spanStatus(2).counters.badFCS == 0)
    }

    @Test("frames with bit-stuffing patterns (runs of ones, flag and abort bytes) survive")
    func stuffing() throws {
        let simulator = try LineSimulator()
        let network = try simulator.openChannel(Lab.span1DChannel)
        let user = try simulator.openChannel(Lab.span2DChannel)
        let frames: [[UInt8]] = [
            [0x7E, 0x7E, 0x7E], [0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0xFE, 0x3F, 0xFC], [0x00, 0x01, 0x7E, 0xFF, 0x00],
            Array(repeating: 0xFF, count: 260), Array(repeating: 0x7E, count: 100),
        ]
        let result = carry(frames, from: network, to: user, on: simulator)
        #expect(result.frames.map { Array($0.dropLast(2)) } == frames)
    }

    @Test("corrupted frames give exactly that many BADFCS events and counts; the rest arrive")
    func badFCS() throws {
        let simulator = try LineSimulator()
        let network = try simulator.openChannel(Lab.span1DChannel)
        let user = try simulator.openChannel(Lab.span2DChannel)
        var random = TestRandom(state: 11)
        let good = (0..<10).map { _ in random.bytes(random.int(in: 4...60)) }
        _ = carry(Array(good.prefix(3)), from: network, to: user, on: simulator)
        try simulator.corruptOutgoingFrames(span: 1, count: 4)
        let result = carry(Array(good.dropFirst(3)), from: network, to: user, on: simulator)

        #expect(result.events.filter { $0.kind == .badFCS }.count == 4)
        #expect(result.events.allSatisfy { $0.kind == .badFCS })
        #expect(result.frames.map { Array($0.dropLast(2)) } == Array(good.dropFirst(7)))
        #expect(try simulator.spanStatus(2).counters.badFCS == 4)
    }

    @Test("a reader that ignores ELAST makes no progress until it fetches the event")
    func eventBlocksIO() throws {
        let simulator = try LineSimulator()
        let network = try simulator.openChannel(Lab.span1DChannel)
        let user = try simulator.openChannel(Lab.span2DChannel)
        try simulator.corruptOutgoingFrames(span: 1, count: 1)
        network.write([0x02, 0x01, 0x7F, 0, 0])
        network.write([0x02, 0x01, 0x01, 0x00, 0, 0])
        simulator.tick(count: 20)
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(buffer.withUnsafeMutableBytes { user.read(into: $0) } == .eventPending)
        #expect(buffer.withUnsafeMutableBytes { user.read(into: $0) } == .eventPending)
        #expect(user.nextEvent() == ChannelEvent(.badFCS))
        #expect(user.readBytes().map { Array($0.dropLast(2)) } == [0x02, 0x01, 0x01, 0x00])
    }

    @Test("random bit errors on the D-channel: every delivered frame is intact, errors are counted")
    func bitErrors() throws {
        let simulator = try LineSimulator()
        let network = try simulator.openChannel(Lab.span1DChannel)
        let user = try simulator.openChannel(Lab.span2DChannel)
        var impairments = Impairments()
        impairments.bitErrorRate = 2e-4
        impairments.bitErrorsOnDChannelOnly = true
        try simulator.setImpairments(impairments, span: 2)
        var random = TestRandom(state: 5)
        let frames = (0..<400).map { index in [UInt8(index & 0xFF), UInt8(index >> 8)] + random.bytes(random.int(in: 20...120)) }
        let result = carry(frames, from: network, to: user, on: simulator)
        let status = try simulator.spanStatus(2)

        #expect(status.counters.bipolarViolations > 0)
        #expect(status.counters.badFCS > 0)
        #expect(result.frames.count < frames.count)
        #expect(result.frames.count > frames.count / 2)
        // What got through is a subsequence of what was sent, each frame unaltered.
        var next = frames[...]
        for frame in result.frames {
            let payload = Array(frame.dropLast(2))
            guard let index = next.firstIndex(of: payload) else {
                Issue.record("a delivered frame was not sent or arrived out of order")
                break
            }
            next = next[(index + 1)...]
        }
        let errors = result.events.filter { $0.kind == .badFCS || $0.kind == .abort }.count
        #expect(errors == status.counters.badFCS + status.counters.aborts)
    }
}
