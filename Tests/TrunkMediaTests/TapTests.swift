import Testing
import TrunkCore
import TrunkHardware
@testable import TrunkMedia

@Suite("Media loop taps and detectors")
struct TapTests {
    /// Drains a tap's ring into left and right streams, checking blocks arrive back to back.
    final class TapReader {
        let tap: MediaTap
        var left: [Int16] = []
        var right: [Int16] = []
        var firstSampleTime: UInt64?
        var contiguous = true
        private var nextTime: UInt64?
        private var block: [Int16]

        init(_ tap: MediaTap) {
            self.tap = tap
            block = Array(repeating: 0, count: tap.ring.blockFrames * 2)
        }

        func drain() {
            while let time = block.withUnsafeMutableBufferPointer({ tap.ring.pop(into: $0) }) {
                if firstSampleTime == nil { firstSampleTime = time }
                if let expected = nextTime, expected != time { contiguous = false }
                nextTime = time + UInt64(tap.ring.blockFrames)
                for frame in 0..<tap.ring.blockFrames {
                    left.append(block[2 * frame])
                    right.append(block[2 * frame + 1])
                }
            }
        }
    }

    func position(of part: [Int16], in whole: [Int16]) -> Int? {
        guard whole.count >= part.count else { return nil }
        return (0...(whole.count - part.count)).first { whole[$0..<($0 + part.count)].elementsEqual(part) }
    }

    @Test("a recording tap delivers stereo blocks: left what the trunk sent, right what it was sent, aligned",
          arguments: [MediaBlockSize.ms1, .ms20])
    func stereoTap(blockSize: MediaBlockSize) throws {
        let lab = try MediaLoopLab(blockSize: blockSize, timeslots: [1, 2])
        lab.loop.send(.connect(lab.near(1), lab.near(2)))
        let tap = MediaTap(id: 77, point: .beforeEchoCanceller, blockFrames: blockSize.samples, capacityBlocks: 64)
        lab.loop.send(.attachTap(channel: lab.near(1), tap: tap))
        var random = SignalRandom(state: 4)
        let caller = random.alawNoise(count: 3000, amplitude: 9000)
        let agent = random.alawNoise(count: 3000, amplitude: 9000)
        lab.farEnd(1).stream = caller
        lab.farEnd(2).stream = agent
        let reader = TapReader(tap)
        for _ in 0..<500 {
            lab.run(ticks: 1)
            reader.drain()
        }
        let callerLinear = caller.map(G711.alawToLinear)
        let agentLinear = agent.map(G711.alawToLinear)
        let left = try #require(position(of: callerLinear, in: reader.left), "the caller is on the left, intact")
        let right = try #require(position(of: agentLinear, in: reader.right), "the agent is on the right, intact")
        #expect(left == right, "both sides of the same instant share a frame")
        #expect(reader.contiguous && reader.firstSampleTime.map { $0 % UInt64(blockSize.samples) == 0 } == true)
        #expect(tap.ring.overflowCount == 0)
    }

    @Test("a tap whose consumer stalls drops blocks, counts them and says so once")
    func overflow() throws {
        let lab = try MediaLoopLab(blockSize: .ms1, timeslots: [1])
        let tap = MediaTap(id: 5, blockFrames: 8, capacityBlocks: 4)
        lab.loop.send(.attachTap(channel: lab.near(1), tap: tap))
        lab.run(ticks: 20)
        #expect(tap.ring.availableBlocks == 4)
        #expect(tap.ring.overflowCount == 16)
        let overflows = lab.events.filter { $0.kind == .tapOverflow(tapID: 5) }
        #expect(overflows.count == 1 && overflows.first?.channel == lab.near(1))
    }

    @Test("the line-test tap listens beside the recording tap: both get every block, detaching one leaves the other")
    func lineTestTapBesideRecording() throws {
        let lab = try MediaLoopLab(blockSize: .ms8, timeslots: [1])
        let recording = MediaTap(id: 1, blockFrames: 64, capacityBlocks: 64)
        let lineTest = MediaTap(id: 2, point: .beforeEchoCanceller, blockFrames: 64, capacityBlocks: 64)
        lab.loop.send(.attachTap(channel: lab.near(1), tap: recording))
        lab.loop.send(.attachLineTestTap(channel: lab.near(1), tap: lineTest))
        var random = SignalRandom(state: 9)
        let caller = random.alawNoise(count: 2400, amplitude: 9000)
        lab.farEnd(1).stream = caller
        let (recorded, listened) = (TapReader(recording), TapReader(lineTest))
        for _ in 0..<400 {
            lab.run(ticks: 1)
            recorded.drain()
            listened.drain()
        }
        let callerLinear = caller.map(G711.alawToLinear)
        #expect(position(of: callerLinear, in: recorded.left) != nil, "the recording still hears the caller")
        #expect(position(of: callerLinear, in: listened.left) != nil, "so does the line test")
        #expect(recorded.left == listened.left && recorded.firstSampleTime == listened.firstSampleTime)
        lab.loop.send(.detachLineTestTap(channel: lab.near(1)))
        lab.run(ticks: 1)
        listened.drain()
        recorded.drain()
        let (before, listenedBefore) = (recorded.left.count, listened.left.count)
        lab.run(ticks: 80)
        recorded.drain()
        listened.drain()
        #expect(recorded.left.count == before + 80 * 8, "the recording tap keeps running")
        #expect(listened.left.count == listenedBefore, "the line-test tap is gone")
    }

    @Test("detections leave as events stamped with the channel's sample clock, the clock taps use")
    func detectionEvents() throws {
        let lab = try MediaLoopLab(blockSize: .ms8, timeslots: [1])
        let tap = MediaTap(id: 1, blockFrames: 64, capacityBlocks: 256)
        lab.loop.send(.attachDetector(channel: lab.near(1), detector: LoudSampleDetector(threshold: 20000)))
        lab.loop.send(.attachTap(channel: lab.near(1), tap: tap))
        lab.farEnd(1).stream = Array(repeating: G711.alawSilence, count: 437) + [G711.linearToAlaw(30000)]
        let reader = TapReader(tap)
        for _ in 0..<200 {
            lab.run(ticks: 1)
            reader.drain()
        }
        let detections = lab.events.filter { if case .detection = $0.kind { true } else { false } }
        let detection = try #require(detections.first)
        #expect(detections.count == 1)
        #expect(detection.channel == lab.near(1))
        #expect(detection.kind == .detection(.dtmf(digit: UInt8(ascii: "5"), durationMs: 0)))
        let frame = Int(detection.sampleTime - reader.firstSampleTime!)
        #expect(reader.left[frame] == G711.alawToLinear(G711.linearToAlaw(30000)))
    }
}

@Suite("Media loop with the DSP detectors and generators")
struct MediaLoopDSPTests {
    @Test("DTMF from a caller is detected on the loop's channel, stamped with its channel and sample time")
    func dtmfFromCaller() throws {
        let lab = try MediaLoopLab(blockSize: .ms20, timeslots: [1])
        lab.loop.send(.attachDetector(channel: lab.near(1), detector: DTMFReceiver()))
        lab.loop.send(.attachDetector(channel: lab.near(1), detector: CallProgressToneDetector(zone: .cn)))
        // The caller's keypad: DTMF at the generator's levels, 100 ms on, 100 ms off, through A-law.
        let keypad = DTMFGenerator()
        #expect(keypad.send("159#") == 4)
        var samples = [Int16](repeating: 0, count: 8000)
        let produced = samples.withUnsafeMutableBufferPointer { keypad.fill($0) }
        lab.farEnd(1).stream = samples[..<produced].map(G711.linearToAlaw)
        lab.run(ticks: 1200)
        let digits = lab.events.compactMap { event -> (UInt8, UInt64)? in
            guard event.channel == lab.near(1), case .detection(.dtmf(let digit, _)) = event.kind else { return nil }
            return (digit, event.sampleTime)
        }
        #expect(digits.map(\.0) == Array("159#".utf8))
        // Digits start 200 ms (1600 samples) apart on the channel's clock.
        for (earlier, later) in zip(digits, digits.dropFirst()) {
            #expect(abs(Int(later.1) - Int(earlier.1) - 1600) <= 80)
        }
    }

    @Test("a DTMF generator played into a bridge reaches the far end, where a receiver reads the digits")
    func dtmfGeneratorPlayback() throws {
        let lab = try MediaLoopLab(blockSize: .ms8, timeslots: [1, 2])
        lab.loop.send(.connect(lab.near(1), lab.near(2)))
        let generator = DTMFGenerator()
        _ = generator.send("*0A")
        lab.loop.send(.play(channel: lab.near(2), source: generator, id: 3, gain: .unity, mixWithSwitched: true))
        lab.run(ticks: 900)
        // Read what far end 2 heard with a receiver of its own.
        let receiver = DTMFReceiver()
        let heard = lab.farEnd(2).received.map(G711.alawToLinear)
        heard.withUnsafeBufferPointer { receiver.process($0, sampleTime: 0) }
        var digits: [UInt8] = []
        while let detection = receiver.nextDetection() {
            if case .dtmf(let digit, _) = detection.kind { digits.append(digit) }
        }
        #expect(digits == Array("*0A".utf8))
        #expect(lab.events.contains { $0.kind == .playbackFinished(id: 3, stopped: false) })
    }
}
