#if canImport(Glibc)
import Glibc
#endif
import G168Harness
import Testing
import TrunkMedia

@Suite struct ModemToneDetectorTests {
    /// A sine of `frequency` at −12 dBm0 in `on`/`off` ms bursts (phase flipped every 450 ms
    /// when `reversals`), 1 s lead silence, 2 s tail, through A-law with −60 dBm0 noise.
    static func tone(_ frequency: Double, onMs: Int, offMs: Int = 0, bursts: Int = 1, reversals: Bool = false) -> [Int16] {
        let amplitude = DSPTestSignals.amplitude(-12)
        var out = [Double](repeating: 0, count: 8000)
        for _ in 0..<bursts {
            for n in 0..<onMs * 8 {
                let phase = reversals ? Double.pi * Double(n / 3600) : 0
                out.append(amplitude * sin(2 * .pi * frequency * Double(n) / 8000 + phase))
            }
            out += [Double](repeating: 0, count: offMs * 8)
        }
        out += [Double](repeating: 0, count: 16000)
        return DSPTestSignals.aLaw(DSPTestSignals.addNoise(out, dBm0: -60, seed: 11))
    }

    @Test func faxCallingTone() {
        let found = DSPTestSignals.detect(ModemToneDetector(), Self.tone(1100, onMs: 500, offMs: 3000, bursts: 2))
        #expect(ToneDetectorTests.tones(found) == ["+fax_cng", "-fax_cng", "+fax_cng", "-fax_cng"])
        if let first = found.first { #expect(abs(Int(first.sampleTime) - 8000) <= 240, "CNG began at \(first.sampleTime)") }
    }

    @Test func answerToneWithoutReversals() {
        let found = DSPTestSignals.detect(ModemToneDetector(), Self.tone(2100, onMs: 3300))
        #expect(ToneDetectorTests.tones(found) == ["+ced", "-ced"])
        if found.count == 2 {
            #expect(abs(Int(found[0].sampleTime) - 8000) <= 240, "began at \(found[0].sampleTime)")
            #expect(abs(Int(found[1].sampleTime) - 8000 - 3300 * 8) <= 240, "ended at \(found[1].sampleTime)")
        }
    }

    @Test func answerToneWithPhaseReversals() {
        let found = DSPTestSignals.detect(ModemToneDetector(), Self.tone(2100, onMs: 3300, reversals: true))
        #expect(ToneDetectorTests.tones(found).first == "+ans_pr")
        #expect(!ToneDetectorTests.tones(found).contains("+ced"))
        #expect(ToneDetectorTests.tones(found).last == "-ans_pr")
    }

    /// A 1400 Hz tone, and the 30-minute speech and music corpus.
    @Test func otherTonesAndSpeechAreIgnored() {
        #expect(DSPTestSignals.detect(ModemToneDetector(), Self.tone(1400, onMs: 3000)).isEmpty)
        for (index, minute) in DTMFTalkOffTests.corpus.enumerated() {
            let found = DSPTestSignals.detect(ModemToneDetector(), minute)
            #expect(found.isEmpty, "corpus minute \(index): \(ToneDetectorTests.tones(found))")
        }
    }
}
