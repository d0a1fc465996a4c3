import Testing
import TrunkCore
@testable import TrunkHardware

@Suite("Simulated E1 bearer channels")
struct BearerChannelTests {
    /// Writes `streams[i]` on channel `from[i]`, ticks, and collects what `to[i]` reads.
    func transfer(_ streams: [[UInt8]], from senders: [any ChannelDevice], to receivers: [any ChannelDevice],
                  simulator: LineSimulator, ticks: Int) -> [[UInt8]] {
        var received = Array(repeating: [UInt8](), count: streams.count)
        for device in senders + receivers {
            _ = device.drainEvents()
            while device.readBytes() != nil {}
        }
        var pending = streams.map { $0[...] }
        for _ in 0..<ticks {
            for (index, sender) in senders.enumerated() where !pending[index].isEmpty {
                if case .transferred(let count) = sender.write(Array(pending[index])) { pending[index] = pending[index].dropFirst(count) }
            }
            simulator.tick()
            for (index, receiver) in receivers.enumerated() {
                while let bytes = receiver.readBytes() { received[index] += bytes }
                // The sending side's own receive buffer is emptied too, or it overruns.
                while senders[index].readBytes() != nil {}
            }
        }
        return received
    }

    @Test("audio on every timeslot of span 1 arrives bit-exact on the same timeslot of span 2, and back")
    func bitExact() throws {
        let simulator = try LineSimulator()
        let timeslots = Array(1...15) + Array(17...31)
        let span1 = try timeslots.map { try simulator.openChannel(Lab.bChannel(span: 1, timeslot: $0)) }
        let span2 = try timeslots.map { try simulator.openChannel(Lab.bChannel(span: 2, timeslot: $0)) }
        for device in span1 + span2 {
            try device.setBlockSize(8)
            try device.setBufferPolicy(.immediate, buffers: 32)
        }
        var random = TestRandom(state: 99)
        // 256 bytes: every byte value appears, so no code is silently remapped.
        let streams = timeslots.map { _ in random.bytes(248) + Array(0...255).map(UInt8.init) }
        let forward = transfer(streams, from: span1, to: span2, simulator: simulator, ticks: 80)
        for (index, stream) in streams.enumerated() {
            #expect(Array(forward[index].prefix(stream.count)) == stream, "timeslot \(timeslots[index]) span 1 → 2")
        }
        let backward = transfer(streams.reversed(), from: span2, to: span1, simulator: simulator, ticks: 80)
        for (index, stream) in streams.reversed().enumerated() {
            #expect(Array(backward[index].prefix(stream.count)) == stream, "timeslot \(timeslots[index]) span 2 → 1")
        }
    }

    @Test("an idle channel carries A-law silence and reports underrun after audio stops")
    func idleAndUnderrun() throws {
        let simulator = try LineSimulator()
        let a = try simulator.openChannel(Lab.bChannel(span: 1, timeslot: 1))
        let b = try simulator.openChannel(Lab.bChannel(span: 2, timeslot: 1))
        try b.setBlockSize(8)
        simulator.tick()
        #expect(b.readBytes() == Array(repeating: 0xD5, count: 8))
        a.write([1, 2, 3, 4, 5, 6, 7, 8])
        simulator.tick(count: 2)
        #expect(b.readBytes() == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(a.drainEvents() == [ChannelEvent(.writeUnderrun)])
    }

    @Test("linear mode: 16-bit samples written on one side come back through A-law on the other")
    func linear() throws {
        let simulator = try LineSimulator()
        let a = try simulator.openChannel(Lab.bChannel(span: 1, timeslot: 5))
        let b = try simulator.openChannel(Lab.bChannel(span: 2, timeslot: 5))
        try a.setLinear(true)
        try b.setLinear(true)
        try b.setBlockSize(8)
        let samples: [Int16] = [0, 1000, -1000, 8000, -8000, 32000, -32000, 123]
        var bytes: [UInt8] = []
        for sample in samples { bytes += [UInt8(truncatingIfNeeded: sample), UInt8(truncatingIfNeeded: sample >> 8)] }
        a.write(bytes)
        simulator.tick()
        let got = try #require(b.readBytes())
        let decoded = stride(from: 0, to: got.count, by: 2).map { Int16(bitPattern: UInt16(got[$0]) | UInt16(got[$0 + 1]) << 8) }
        #expect(decoded == samples.map { G711.alawToLinear(G711.linearToAlaw($0)) })
    }

    @Test("a slip drops or repeats one frame and is counted; added delay shifts the stream")
    func slipsAndDelay() throws {
        let simulator = try LineSimulator()
        let a = try simulator.openChannel(Lab.bChannel(span: 1, timeslot: 3))
        let b = try simulator.openChannel(Lab.bChannel(span: 2, timeslot: 3))
        try b.setBlockSize(8)
        try a.setBufferPolicy(.immediate, buffers: 32)
        var impairments = Impairments()
        impairments.delayMs = 20
        try simulator.setImpairments(impairments, span: 2)
        let stream = (0..<400).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) }
        a.write(stream)
        var received: [UInt8] = []
        for _ in 0..<120 {
            simulator.tick()
            while let bytes = b.readBytes() { received += bytes }
        }
        // 20 ms of idle, then the stream unaltered.
        #expect(received.prefix(160).allSatisfy { $0 == 0xD5 })
        #expect(Array(received[160..<560]) == stream)

        impairments.delayMs = 0
        impairments.slipEveryMs = 10
        try simulator.setImpairments(impairments, span: 2)
        simulator.tick(count: 100)
        #expect(try simulator.spanStatus(2).counters.slips == 10)
    }
}
