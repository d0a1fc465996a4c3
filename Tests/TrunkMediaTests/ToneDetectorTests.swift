import G168Harness
import Testing
import TrunkMedia

@Suite struct ToneDetectorTests {
    /// `tone` of `zone` played for `cycles` (or `seconds` if continuous), then 6 s of silence,
    /// through A-law with −60 dBm0 noise.
    static func signal(_ zone: ToneZone, _ tone: ProgressTone, cycles: Int, seconds: Double = 0, leadMs: Int = 500) -> [Int16] {
        let definition = zone.definition(of: tone)!
        let generator = ToneGenerator(definition, cycles: definition.isContinuous ? nil : cycles)
        var played = ToneGeneratorTests.play(generator, limit: definition.isContinuous ? Int(seconds * 8000) : 1_000_000)
        played = [Int16](repeating: 0, count: leadMs * 8) + played + [Int16](repeating: 0, count: 48_000)
        return DSPTestSignals.aLaw(DSPTestSignals.addNoise(played.map(Double.init), dBm0: -60, seed: 7))
    }

    static func tones(_ detections: [MediaDetection]) -> [String] {
        detections.map {
            switch $0.kind {
            case .toneStarted(let t): "+\(t.rawValue)"
            case .toneEnded(let t): "-\(t.rawValue)"
            case .dtmf(let d, _): "dtmf \(d)"
            }
        }
    }

    @Test(arguments: [ProgressTone.busy, .congestion, .ringback, .callWaiting, .recordTone, .specialInformation])
    func chinaCadencedTonesRecognised(tone: ProgressTone) {
        let found = DSPTestSignals.detect(CallProgressToneDetector(zone: .cn), Self.signal(.cn, tone, cycles: 4))
        #expect(Self.tones(found) == ["+\(tone.rawValue)", "-\(tone.rawValue)"])
    }

    @Test func chinaDialToneRecognised() {
        let found = DSPTestSignals.detect(CallProgressToneDetector(zone: .cn), Self.signal(.cn, .dial, cycles: 0, seconds: 3))
        #expect(Self.tones(found) == ["+dial", "-dial"])
        if let start = found.first {
            #expect(abs(Int(start.sampleTime) - 4000) <= 400, "dial tone began at \(start.sampleTime)")
        }
    }

    @Test(arguments: [ProgressTone.dial, .busy, .congestion, .ringback])
    func usTonesRecognised(tone: ProgressTone) {
        let found = DSPTestSignals.detect(CallProgressToneDetector(zone: .us), Self.signal(.us, tone, cycles: 3, seconds: 3))
        #expect(Self.tones(found) == ["+\(tone.rawValue)", "-\(tone.rawValue)"])
    }

    /// Busy-tone disconnect: with 4 confirmed cycles, 3 cycles are not enough; 5 are, and the
    /// tone is stamped at its first burst, its end at the last burst's end.
    @Test func confirmedCyclesAreConfigurable() {
        let strict = CallProgressConfiguration(confirmedCycles: 4)
        let three = DSPTestSignals.detect(CallProgressToneDetector(zone: .cn, configuration: strict), Self.signal(.cn, .busy, cycles: 3))
        #expect(three.isEmpty, "\(Self.tones(three))")
        let five = DSPTestSignals.detect(CallProgressToneDetector(zone: .cn, configuration: strict), Self.signal(.cn, .busy, cycles: 5))
        #expect(Self.tones(five) == ["+busy", "-busy"])
        guard five.count == 2 else { return }
        #expect(abs(Int(five[0].sampleTime) - 4000) <= 300, "busy began at \(five[0].sampleTime)")
        let lastBurstEnd = 4000 + 4 * 5600 + 2800
        #expect(abs(Int(five[1].sampleTime) - lastBurstEnd) <= 300, "busy ended at \(five[1].sampleTime), expected about \(lastBurstEnd)")
    }

    @Test func zoneTonesAreNotConfused() {
        // China's busy must not pass for US busy, nor the reverse.
        #expect(DSPTestSignals.detect(CallProgressToneDetector(zone: .us), Self.signal(.cn, .busy, cycles: 4)).isEmpty)
        #expect(DSPTestSignals.detect(CallProgressToneDetector(zone: .cn), Self.signal(.us, .busy, cycles: 4)).isEmpty)
    }

    @Test func segmentsGiveTheMeasuredCadence() {
        let detector = CallProgressToneDetector(zone: .cn)
        _ = DSPTestSignals.detect(detector, Self.signal(.cn, .congestion, cycles: 3))
        var bursts: [Int] = []
        var pauses: [Int] = []
        while let segment = detector.nextSegment() {
            if segment.isTone { bursts.append(segment.durationMs) } else { pauses.append(segment.durationMs) }
        }
        #expect(bursts.count == 3)
        #expect(bursts.allSatisfy { abs($0 - 700) <= 32 }, "bursts \(bursts)")
        #expect(pauses.dropFirst().prefix(2).allSatisfy { abs($0 - 700) <= 32 }, "pauses \(pauses)")
    }

    /// Speech and music must never look like busy or congestion (analog lines hang up on it),
    /// nor like any other tone of the plan; checked at the most sensitive setting, one cycle.
    @Test func noBusyOrCongestionOnSpeechAndMusic() async {
        let (falseTones, refused) = await withTaskGroup(of: ([String], Int).self) { group in
            for index in 0..<30 {
                group.addTask {
                    let detector = CallProgressToneDetector(zone: .cn, configuration: .init(confirmedCycles: 1))
                    let found = Self.tones(DSPTestSignals.detect(detector, DTMFTalkOffTests.corpus[index])).map { "minute \(index): \($0)" }
                    return (found, detector.rejectedAsImpure)
                }
            }
            var all: [String] = []
            var refused = 0
            for await result in group {
                all += result.0
                refused += result.1
            }
            return (all, refused)
        }
        #expect(falseTones.isEmpty, "\(falseTones)")
        // spandsp alone matches cadences in this corpus: the purity check is what refuses them.
        #expect(refused > 0)
        print("call-progress corpus: \(refused) cadence matches refused by the purity check")
    }
}
