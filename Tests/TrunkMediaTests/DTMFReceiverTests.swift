#if canImport(Glibc)
import Glibc
#endif
import G168Harness
import Testing
import TrunkMedia

/// The DTMF acceptance norms (issue 5; REFERENCE.md): every digit at −10…−30 dBm0 per tone,
/// twist +4/−8 dB, ±1.5 % accepted and ±3.5 % rejected, 40 ms tones with 40 ms pauses,
/// 15 dB SNR, all through A-law.
@Suite struct DTMFReceiverTests {
    static let all = DSPTestSignals.allDigits

    static func received(_ signal: [Double], configuration: DTMFReceiverConfiguration = .init()) -> [MediaDetection] {
        DSPTestSignals.detect(DTMFReceiver(configuration: configuration), DSPTestSignals.aLaw(signal))
    }

    @Test(arguments: [-10.0, -15, -20, -25, -30])
    func allDigitsAtLevel(level: Double) {
        let signal = DSPTestSignals.dtmf(Self.all, lowDBm0: level, highDBm0: level)
        #expect(DSPTestSignals.digits(Self.received(signal)) == Self.all, "at \(level) dBm0 per tone")
    }

    /// (low group, high group) dBm0: reverse twist +4 dB and normal twist −8 dB, strong and weak.
    @Test(arguments: [(-14.0, -10.0), (-30.0, -26.0), (-10.0, -18.0), (-22.0, -30.0)])
    func twistAccepted(levels: (Double, Double)) {
        let signal = DSPTestSignals.dtmf(Self.all, lowDBm0: levels.0, highDBm0: levels.1)
        #expect(DSPTestSignals.digits(Self.received(signal)) == Self.all, "low \(levels.0) high \(levels.1) dBm0")
    }

    @Test func excessiveTwistRejected() {
        let reverse = DSPTestSignals.dtmf(Self.all, lowDBm0: -20, highDBm0: -12)
        let normal = DSPTestSignals.dtmf(Self.all, lowDBm0: -10, highDBm0: -24)
        #expect(DSPTestSignals.digits(Self.received(reverse)) == "")
        #expect(DSPTestSignals.digits(Self.received(normal)) == "")
    }

    /// Each tone ±1.5 % off, and both tones ±1.5 % off at once in all four sign pairs (the
    /// case spandsp's dtmf_rx loses digits in: its fixed tone-to-total energy test).
    @Test(arguments: [(0.015, 0.0), (-0.015, 0.0), (0.0, 0.015), (0.0, -0.015),
                      (0.015, 0.015), (-0.015, -0.015), (0.015, -0.015), (-0.015, 0.015)])
    func frequencyOffsetWithinOnePointFivePercentAccepted(errors: (Double, Double)) {
        for level in [-10.0, -30.0] {
            let signal = DSPTestSignals.dtmf(Self.all, lowDBm0: level, highDBm0: level, rowError: errors.0, columnError: errors.1)
            #expect(DSPTestSignals.digits(Self.received(signal)) == Self.all, "offsets \(errors) at \(level) dBm0")
        }
    }

    @Test(arguments: [(0.035, 0.0), (-0.035, 0.0), (0.0, 0.035), (0.0, -0.035),
                      (0.035, 0.035), (-0.035, -0.035), (0.035, -0.035), (-0.035, 0.035)])
    func frequencyOffsetOfThreePointFivePercentRejected(errors: (Double, Double)) {
        var refusedByOurCheck = 0
        for level in [-10.0, -20.0, -30.0] {
            let signal = DSPTestSignals.dtmf(Self.all, lowDBm0: level, highDBm0: level, rowError: errors.0, columnError: errors.1)
            let receiver = DTMFReceiver()
            #expect(DSPTestSignals.digits(DSPTestSignals.detect(receiver, DSPTestSignals.aLaw(signal))) == "", "offsets \(errors) at \(level) dBm0")
            refusedByOurCheck += receiver.rejectedForFrequency
        }
        // The energy tests refuse high-group tones 3.5 % off (−5 dB in a 100 Hz bin) but not
        // low-group ones (the bins are as wide in Hz at 697 Hz): the frequency measurement must.
        if errors.1 == 0 {
            #expect(refusedByOurCheck > 0)
        }
    }

    /// Noise 15 dB below each tone (so 18 dB below the digit's power).
    @Test(arguments: [-10.0, -20.0, -30.0])
    func fifteenDecibelSNR(level: Double) {
        for seed in UInt64(1)...3 {
            let clean = DSPTestSignals.dtmf(Self.all + Self.all, lowDBm0: level, highDBm0: level)
            let noisy = DSPTestSignals.addNoise(clean, dBm0: level - 15, seed: seed)
            #expect(DSPTestSignals.digits(Self.received(noisy)) == Self.all + Self.all, "\(level) dBm0, seed \(seed)")
        }
    }

    @Test func durationAndStartAreReported() {
        // 100 ms lead, then "5" for 200 ms, 100 ms pause, "9" for 40 ms.
        var signal = DSPTestSignals.dtmf("5", lowDBm0: -15, highDBm0: -15, onMs: 200, offMs: 100, leadMs: 100)
        signal.removeLast(200 * 8)
        signal += DSPTestSignals.dtmf("9", lowDBm0: -15, highDBm0: -15, onMs: 40, offMs: 40, leadMs: 0)
        let found = Self.received(signal)
        #expect(found.count == 2)
        guard found.count == 2 else { return }
        if case .dtmf(let digit, let ms) = found[0].kind {
            #expect(digit == UInt8(ascii: "5"))
            #expect(abs(ms - 200) <= 15, "duration \(ms) ms")
        } else { Issue.record("not a digit: \(found[0])") }
        #expect(abs(Int(found[0].sampleTime) - 800) <= 120, "start \(found[0].sampleTime)")
        if case .dtmf(let digit, let ms) = found[1].kind {
            #expect(digit == UInt8(ascii: "9"))
            #expect(abs(ms - 40) <= 15, "duration \(ms) ms")
        } else { Issue.record("not a digit: \(found[1])") }
        #expect(abs(Int(found[1].sampleTime) - 800 - 2400) <= 120, "start \(found[1].sampleTime)")
    }

    /// The start stamp and the duration do not depend on where the digit falls against the
    /// receiver's 80-sample blocks: within 4 ms at −10 and at −30 dBm0 with noise 15 dB below
    /// (the Hann window weighs a block's edges little, so noise reads as up to ~2 ms of tone).
    @Test(arguments: [-10.0, -30.0])
    func startAndDurationHoldAtEveryBlockAlignment(level: Double) {
        for shift in stride(from: 0, to: 80, by: 7) {
            for onMs in [40, 120] {
                let clean = DSPTestSignals.dtmf("8", lowDBm0: level, highDBm0: level, onMs: onMs, offMs: 40, leadMs: 0)
                let signal = [Double](repeating: 0, count: 800 + shift) + clean
                let found = Self.received(DSPTestSignals.addNoise(signal, dBm0: level - 15, seed: UInt64(shift)))
                #expect(found.count == 1, "shift \(shift), \(onMs) ms")
                guard let digit = found.first, case .dtmf(let code, let ms) = digit.kind else { continue }
                #expect(code == UInt8(ascii: "8"))
                #expect(abs(Int(digit.sampleTime) - 800 - shift) <= 32, "shift \(shift), \(onMs) ms: start \(digit.sampleTime)")
                #expect(abs(ms - onMs) <= 4, "shift \(shift): \(ms) ms for \(onMs) ms")
            }
        }
    }

    /// The same digit four times with 40 ms pauses is four digits, wherever the pauses fall
    /// against the blocks; a 10 ms break inside a digit (a line hit) does not split it.
    @Test func fortyMillisecondPausesSplitAndTenMillisecondBreaksDoNot() {
        for shift in stride(from: 0, to: 80, by: 9) {
            let lead = [Double](repeating: 0, count: 800 + shift)
            let repeated = DSPTestSignals.dtmf("5555", lowDBm0: -25, highDBm0: -25, onMs: 40, offMs: 40, leadMs: 0)
            let noisy = DSPTestSignals.addNoise(lead + repeated, dBm0: -40, seed: UInt64(shift))
            #expect(DSPTestSignals.digits(Self.received(noisy)) == "5555", "shift \(shift)")

            var broken = DSPTestSignals.dtmf("7", lowDBm0: -25, highDBm0: -25, onMs: 200, offMs: 0, leadMs: 0)
            for n in 800..<880 { broken[n] = 0 }
            let found = Self.received(DSPTestSignals.addNoise(lead + broken, dBm0: -40, seed: UInt64(shift)))
            #expect(DSPTestSignals.digits(found) == "7", "shift \(shift)")
            if case .dtmf(_, let ms)? = found.first?.kind {
                #expect(abs(ms - 200) <= 4, "shift \(shift): \(ms) ms")
            }
        }
    }

    /// Digits sent over dial tone (450 Hz, China, at −10 dBm0, stronger than the digits):
    /// with the dial-tone notch every digit comes through; without it none does (the dial
    /// tone takes the block's energy away from the digit's two tones).
    @Test func dialToneFilterLetsDigitsThroughDialTone() {
        let digits = DSPTestSignals.dtmf(Self.all, lowDBm0: -20, highDBm0: -20)
        let dialTone = DSPTestSignals.amplitude(-10)
        var signal = digits
        for n in signal.indices {
            let phase: Double = 2 * Double.pi * 450 * Double(n) / 8000
            signal[n] += dialTone * Glibc.sin(phase)
        }
        let filtered = Self.received(signal, configuration: .init(filterDialTone: true))
        #expect(DSPTestSignals.digits(filtered) == Self.all)
        #expect(DSPTestSignals.digits(Self.received(signal)) == "")
    }

    @Test func blockSizeDoesNotChangeTheResult() {
        let samples = DSPTestSignals.aLaw(DSPTestSignals.dtmf(Self.all, lowDBm0: -20, highDBm0: -20))
        let reference = DSPTestSignals.detect(DTMFReceiver(), samples, block: 160)
        for block in [8, 64, 1000] {
            #expect(DSPTestSignals.detect(DTMFReceiver(), samples, block: block) == reference, "block \(block)")
        }
    }

    @Test func resetForgetsADigitInProgress() {
        let samples = DSPTestSignals.aLaw(DSPTestSignals.dtmf("7", lowDBm0: -10, highDBm0: -10, onMs: 200, offMs: 0, leadMs: 0))
        let receiver = DTMFReceiver()
        let half = Array(samples[0..<1200])
        _ = DSPTestSignals.detect(receiver, half)
        receiver.reset()
        let rest = [Int16](repeating: 0, count: 3200)
        #expect(DSPTestSignals.detect(receiver, rest).isEmpty)
    }
}
