import Foundation
import Testing
import TrunkCore
@testable import TrunkMedia

@Suite("Dominant frequency of a line-test signal")
struct DominantFrequencyTests {
    /// A sine at `hz` and `dBm0` through A-law, as a line delivers it.
    static func alawTone(_ hz: Double, dBm0: Float, samples: Int, phase: Double = 0.3) -> [Int16] {
        let amplitude = Double(SignalLevel.rms(dBm0: dBm0)) * 2.0.squareRoot()
        return (0..<samples).map { n in
            let value = amplitude * sin(2 * .pi * hz * Double(n) / 8000 + phase)
            return G711.alawToLinear(G711.linearToAlaw(Int16(value.rounded())))
        }
    }

    static let tones: [(hz: Double, dBm0: Float)] = [(1004, -10), (350, -20), (2900.5, -40), (97, 0), (3400, -10)]

    @Test("a tone through A-law is found within 0.5 Hz across the band and levels", arguments: tones)
    func toneFrequency(hz: Double, dBm0: Float) {
        var estimator = DominantFrequency()
        estimator.add(Self.alawTone(hz, dBm0: dBm0, samples: 8000))
        let found: Double = estimator.estimate() ?? -1
        #expect(abs(found - hz) < 0.5, "\(hz) Hz found as \(found)")
    }

    @Test("the stronger of two tones wins (6 dB apart)")
    func strongerOfTwo() {
        let strong = Self.alawTone(1004, dBm0: -10, samples: 4096)
        let weak = Self.alawTone(1800, dBm0: -16, samples: 4096, phase: 1.1)
        var estimator = DominantFrequency()
        estimator.add(zip(strong, weak).map { Int16(clamping: Int($0) + Int($1)) })
        let found: Double = estimator.estimate() ?? -1
        #expect(abs(found - 1004) < 1)
    }

    @Test("an idle line (A-law idle code, a constant), silence and too short a stretch give no frequency")
    func nothingToFind() {
        var idle = DominantFrequency()
        idle.add([Int16](repeating: G711.alawToLinear(G711.alawSilence), count: 4000))
        #expect(idle.estimate() == nil)
        var silent = DominantFrequency()
        silent.add([Int16](repeating: 0, count: 4000))
        #expect(silent.estimate() == nil)
        var short = DominantFrequency()
        short.add(Self.alawTone(1004, dBm0: -10, samples: DominantFrequency.windowLength - 1))
        #expect(short.estimate() == nil)
    }

    @Test("it follows the latest window: a change of tone shows once a window of the new one has passed")
    func followsTheLatestWindow() {
        var estimator = DominantFrequency()
        estimator.add(Self.alawTone(1004, dBm0: -10, samples: 8000))
        estimator.add(Self.alawTone(2100, dBm0: -10, samples: DominantFrequency.windowLength))
        let found: Double = estimator.estimate() ?? -1
        #expect(abs(found - 2100) < 0.5)
    }
}
