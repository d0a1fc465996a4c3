#if canImport(Glibc)
import Glibc
#endif
import G168Harness
import TrunkCore
import TrunkMedia

/// Generated test signals for the DTMF, tone and modem detectors: linear samples that have
/// crossed an A-law link, from fixed seeds.
enum DSPTestSignals {
    static let rate: Double = 8000
    static let lowGroup: [Double] = [697, 770, 852, 941]
    static let highGroup: [Double] = [1209, 1336, 1477, 1633]
    static let keypad = Array("123A456B789C*0#D")
    static let allDigits = "123A456B789C*0#D"

    /// Peak amplitude of a sine at `dBm0`.
    static func amplitude(_ dBm0: Double) -> Double { Double(SignalLevel.rms(dBm0: Float(dBm0))) * 2.0.squareRoot() }

    /// Linear samples of `digits`, each `onMs` of tone then `offMs` of silence, after `leadMs`
    /// of silence; tone frequencies scaled by (1 + rowError) and (1 + columnError).
    static func dtmf(_ digits: String, lowDBm0: Double, highDBm0: Double, onMs: Int = 40, offMs: Int = 40,
                     rowError: Double = 0, columnError: Double = 0, leadMs: Int = 100) -> [Double] {
        var out = [Double](repeating: 0, count: leadMs * 8)
        let a1 = amplitude(lowDBm0), a2 = amplitude(highDBm0)
        for character in digits {
            let index = keypad.firstIndex(of: character)!
            let f1 = lowGroup[index / 4] * (1 + rowError)
            let f2 = highGroup[index % 4] * (1 + columnError)
            for n in 0..<onMs * 8 {
                let t = Double(n) / rate
                out.append(a1 * sin(2 * .pi * f1 * t) + a2 * sin(2 * .pi * f2 * t + 1))
            }
            out.append(contentsOf: [Double](repeating: 0, count: offMs * 8))
        }
        out.append(contentsOf: [Double](repeating: 0, count: 200 * 8))
        return out
    }

    /// Adds white Gaussian noise at `dBm0`.
    static func addNoise(_ signal: [Double], dBm0: Double, seed: UInt64) -> [Double] {
        var random = TestRandom(seed: seed)
        let rms = Double(SignalLevel.rms(dBm0: Float(dBm0)))
        return signal.map { $0 + random.gaussian() * rms }
    }

    /// What an A-law channel delivers.
    static func aLaw(_ signal: [Double]) -> [Int16] {
        signal.map { aLawRoundTrip(Int16(max(-32768, min(32767, $0.rounded())))) }
    }

    static func aLaw(_ signal: [Float]) -> [Int16] {
        signal.map { aLawRoundTrip(Int16(max(-32768, min(32767, $0.rounded())))) }
    }

    /// Runs `detector` over `samples` in blocks of `block` and collects what it reports.
    static func detect(_ detector: AudioDetector, _ samples: [Int16], block: Int = 160, startTime: UInt64 = 0) -> [MediaDetection] {
        var found: [MediaDetection] = []
        samples.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                let n = min(block, all.count - start)
                detector.process(UnsafeBufferPointer(rebasing: all[start..<start + n]), sampleTime: startTime + UInt64(start))
                while let d = detector.nextDetection() { found.append(d) }
                start += n
            }
        }
        return found
    }

    static func digits(_ detections: [MediaDetection]) -> String {
        String(detections.compactMap { d -> Character? in
            if case .dtmf(let digit, _) = d.kind { return Character(UnicodeScalar(digit)) }
            return nil
        })
    }

    /// Music-like signal: chords of 3–4 harmonic notes (equal temperament, A4 = 440 Hz) that
    /// change every 0.3–1.5 s with attack/decay envelopes and 5–6 Hz vibrato, and a melody
    /// line above them; active level about `level` dBm0.
    static func musicLike(seconds: Double, level: Double, seed: UInt64) -> [Float] {
        var random = TestRandom(seed: seed)
        let total = Int(seconds * rate)
        var out = [Float](repeating: 0, count: total)
        var n = 0
        var phases = [Double](repeating: 0, count: 5 * 4)
        let gain = amplitude(level) / 3
        while n < total {
            let length = Int((0.3 + 1.2 * random.uniform()) * rate)
            let root = 48 + Int(random.uniform() * 24)           // MIDI C3…B4
            let minor = random.uniform() < 0.5
            var notes = [root, root + (minor ? 3 : 4), root + 7]
            if random.uniform() < 0.5 { notes.append(root + 10 + Int(random.uniform() * 2)) }
            notes.append(root + 12 + [0, 2, 4, 5, 7, 9, 11, 12][Int(random.uniform() * 8)])  // melody
            let vibratoRate = 5 + random.uniform()
            let vibratoDepth = 0.003 + 0.007 * random.uniform()
            let harmonics = 1 + Int(random.uniform() * 4)
            for i in 0..<length where n < total {
                let t = Double(i) / rate
                let envelope = min(1, t / 0.03) * exp(-t * 0.7)
                let vibrato = 1 + vibratoDepth * sin(2 * .pi * vibratoRate * t)
                var x = 0.0
                for (k, note) in notes.enumerated() {
                    let f = 440 * pow(2, Double(note - 69) / 12) * (k == notes.count - 1 ? vibrato : 1)
                    for h in 1...harmonics where k * 4 + h - 1 < phases.count {
                        let slot = k * 4 + h - 1
                        phases[slot] += 2 * .pi * f * Double(h) / rate
                        x += sin(phases[slot]) / Double(h * h)
                    }
                }
                out[n] = Float(gain * envelope * x)
                n += 1
            }
        }
        return out
    }
}
