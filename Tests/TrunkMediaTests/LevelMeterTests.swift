#if canImport(Glibc)
import Glibc
#endif
import G168Harness
import Testing
import TrunkMedia

@Suite struct LevelMeterTests {
    @Test func sineLevelsThroughALaw() {
        for level in [-3.0, -10, -20, -40] {
            var meter = LevelMeter()
            let amplitude = DSPTestSignals.amplitude(level)
            let linear: [Double] = (0..<8000).map { (n: Int) -> Double in amplitude * sin(2 * Double.pi * 1004 * Double(n) / 8000) }
            let sine = DSPTestSignals.aLaw(linear)
            meter.add(sine)
            #expect(abs(Double(meter.rmsDBm0) - level) <= 0.2, "rms \(meter.rmsDBm0) for \(level)")
            #expect(abs(Double(meter.peakDBm0) - level) <= 0.3, "peak \(meter.peakDBm0) for \(level)")
        }
    }

    @Test func accumulatesAcrossBlocksAndResets() {
        var meter = LevelMeter()
        meter.add([Int16](repeating: 1000, count: 80))
        meter.add([Int16](repeating: -3000, count: 80))
        #expect(meter.samples == 160)
        #expect(meter.peak == 3000)
        #expect(meter.meanSquare == 5_000_000)
        meter.reset()
        #expect(meter.samples == 0 && meter.peak == 0)
    }
}
