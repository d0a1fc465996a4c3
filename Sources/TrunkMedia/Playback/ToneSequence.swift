#if canImport(Glibc)
import Glibc
#endif

/// A played-once sequence of tone steps (one or two frequencies, or silence, each for a
/// duration): generated prompts, beeps, chimes. Zone tones with endless cadences come from
/// `ToneGenerator`; this is for the short fixed sequences flows play. Steps are prepared in
/// `init`; `fill` only advances oscillators.
public final class ToneSequence: SampleSource {
    public struct Step: Sendable, Equatable {
        public var frequencies: [Int]
        public var levelDBm0: Double
        public var durationMs: Int

        public init(frequencies: [Int], levelDBm0: Double = -13, durationMs: Int) {
            self.frequencies = frequencies
            self.levelDBm0 = levelDBm0
            self.durationMs = durationMs
        }
    }

    private struct Prepared {
        /// Per-sample rotation of each oscillator (cos, sin) and its amplitude.
        var rotations: [(c: Double, s: Double)]
        var amplitude: Double
        var samples: Int
    }

    private let steps: [Prepared]
    private var index = 0
    private var remaining: Int
    private var phases: [(x: Double, y: Double)] = [(1, 0), (1, 0)]
    /// Ramp in and out of each step (2 ms): a tone that starts at full level clicks.
    private static let rampSamples = 16

    public init(steps: [Step]) {
        self.steps = steps.map { step in
            let frequencies = Array(step.frequencies.prefix(2))
            // Each component at the step's level; two components share it as DTMF-style pairs do.
            let rms = Double(SignalLevel.rms(dBm0: Float(step.levelDBm0)))
            return Prepared(
                rotations: frequencies.map { (cos(2 * .pi * Double($0) / 8000), sin(2 * .pi * Double($0) / 8000)) },
                amplitude: rms * 2.0.squareRoot(), samples: max(0, step.durationMs * 8))
        }
        remaining = self.steps.first?.samples ?? 0
    }

    public func fill(_ out: UnsafeMutableBufferPointer<Int16>) -> Int {
        var written = 0
        while written < out.count && index < steps.count {
            let step = steps[index]
            let position = step.samples - remaining
            var value = 0.0
            for k in 0..<step.rotations.count {
                let r = step.rotations[k]
                let p = phases[k]
                value += p.y
                phases[k] = (p.x * r.c - p.y * r.s, p.x * r.s + p.y * r.c)
            }
            let edge = min(position, remaining - 1)
            let ramp = edge < Self.rampSamples ? Double(edge + 1) / Double(Self.rampSamples) : 1
            out[written] = Int16(max(-32768, min(32767, (value * step.amplitude * ramp).rounded())))
            written += 1
            remaining -= 1
            if remaining <= 0 {
                index += 1
                remaining = index < steps.count ? steps[index].samples : 0
                // Renormalise the oscillators so rounding never grows them over a long prompt.
                phases[0] = (1, 0)
                phases[1] = (1, 0)
            }
        }
        return written
    }
}
