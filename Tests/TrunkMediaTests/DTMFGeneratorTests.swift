#if canImport(Glibc)
import Glibc
#endif
import G168Harness
import Testing
import TrunkMedia

@Suite struct DTMFGeneratorTests {
    static func generate(_ generator: DTMFGenerator, maxSamples: Int = 80_000) -> [Int16] {
        var out: [Int16] = []
        var block = [Int16](repeating: 0, count: 160)
        while out.count < maxSamples {
            let n = block.withUnsafeMutableBufferPointer { generator.fill($0) }
            out.append(contentsOf: block[0..<n])
            if n < block.count { break }
        }
        return out
    }

    /// Level (dBm0) of the component at `frequency` in `x`, by a single-bin DFT.
    static func toneLevel(_ x: ArraySlice<Int16>, frequency: Double) -> Float {
        var re = 0.0, im = 0.0
        for (i, s) in x.enumerated() {
            re += Double(s) * cos(2 * .pi * frequency * Double(i) / 8000)
            im += Double(s) * sin(2 * .pi * frequency * Double(i) / 8000)
        }
        let amplitude = 2 * (re * re + im * im).squareRoot() / Double(x.count)
        return SignalLevel.dBm0(power: Float(amplitude * amplitude / 2))
    }

    @Test func sentDigitsAreReceivedThroughALaw() {
        let generator = DTMFGenerator(onMs: 50, offMs: 50)
        #expect(generator.send(DSPTestSignals.allDigits) == 16)
        let samples = Self.generate(generator).map(aLawRoundTrip) + [Int16](repeating: 0, count: 800)
        #expect(samples.count >= 16 * 800)
        #expect(DSPTestSignals.digits(DSPTestSignals.detect(DTMFReceiver(), samples)) == DSPTestSignals.allDigits)
    }

    @Test func chinaLevelsAndTiming() {
        let generator = DTMFGenerator()   // −9 / −11 dBm0, 100 ms on, 100 ms off
        generator.send("1")
        let samples = Self.generate(generator)
        #expect(abs(samples.count - 1600) <= 8, "one digit of 100 + 100 ms: \(samples.count) samples")
        let on = samples[80..<720]
        #expect(abs(Self.toneLevel(on, frequency: 697) - -9) <= 0.5, "low group \(Self.toneLevel(on, frequency: 697))")
        #expect(abs(Self.toneLevel(on, frequency: 1209) - -11) <= 0.5, "high group \(Self.toneLevel(on, frequency: 1209))")
        #expect(samples[900..<1600].allSatisfy { $0 == 0 }, "silent off time")
    }

    @Test func invalidCharacterStopsTheString() {
        let generator = DTMFGenerator()
        #expect(generator.send("12x3") == 2)
        #expect(generator.send("x") == 0)
    }

    @Test func stopDropsQueuedDigits() {
        let generator = DTMFGenerator()
        generator.send("123456")
        var block = [Int16](repeating: 0, count: 160)
        _ = block.withUnsafeMutableBufferPointer { generator.fill($0) }
        generator.stop()
        #expect(Self.generate(generator).isEmpty)
    }
}
