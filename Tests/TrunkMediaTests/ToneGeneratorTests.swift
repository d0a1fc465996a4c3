import G168Harness
import Testing
import TrunkMedia

@Suite struct ToneGeneratorTests {
    static func play(_ generator: ToneGenerator, block: Int = 160, limit: Int = 400_000) -> [Int16] {
        var out: [Int16] = []
        var buffer = [Int16](repeating: 0, count: block)
        while out.count < limit {
            let n = buffer.withUnsafeMutableBufferPointer { generator.fill($0) }
            out.append(contentsOf: buffer[0..<n])
            if n < block { break }
        }
        return out
    }

    /// Mean-square power of a stretch, as dBm0.
    static func level(_ x: ArraySlice<Int16>) -> Float {
        SignalLevel.dBm0(power: Float(x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(x.count, 1))))
    }

    @Test func chinaBusyCadenceLevelAndCycles() {
        let busy = ToneZone.cn.definition(of: .busy)!
        let samples = Self.play(ToneGenerator(busy, cycles: 3))
        #expect(samples.count == 3 * 700 * 8)
        for cycle in 0..<3 {
            let on = samples[(cycle * 5600)..<(cycle * 5600 + 2800)]
            let off = samples[(cycle * 5600 + 2800)..<(cycle * 5600 + 5600)]
            #expect(abs(Self.level(on) - -10) <= 0.3, "burst \(cycle): \(Self.level(on)) dBm0")
            #expect(off.allSatisfy { $0 == 0 }, "pause \(cycle) silent")
            #expect(abs(DTMFGeneratorTests.toneLevel(on, frequency: 450) - -10) <= 0.3)
        }
    }

    @Test func blockSizeDoesNotChangeTheSamples() {
        let ringback = ToneZone.cn.definition(of: .ringback)!
        let reference = Self.play(ToneGenerator(ringback, cycles: 2), block: 160)
        #expect(Self.play(ToneGenerator(ringback, cycles: 2), block: 7) == reference)
        #expect(reference.count == 2 * 5000 * 8)
    }

    @Test func continuousToneRunsUntilStopped() {
        let generator = ToneGenerator(ToneZone.us.definition(of: .dial)!)
        let first = Self.play(generator, limit: 96_000)
        #expect(first.count >= 96_000, "12 s of dial tone without a gap")
        #expect(abs(DTMFGeneratorTests.toneLevel(first[80_000..<88_000], frequency: 350) - -13) <= 0.3)
        #expect(abs(DTMFGeneratorTests.toneLevel(first[80_000..<88_000], frequency: 440) - -13) <= 0.3)
        generator.stop()
        var buffer = [Int16](repeating: 0, count: 160)
        #expect(buffer.withUnsafeMutableBufferPointer { generator.fill($0) } == 0)
    }

    @Test func specialInformationToneSteps() {
        let samples = Self.play(ToneGenerator(ToneZone.cn.definition(of: .specialInformation)!, cycles: 1))
        #expect(samples.count == (3 * 330 + 1000) * 8)
        for (index, frequency) in [950.0, 1400, 1800].enumerated() {
            let piece = samples[(index * 2640 + 200)..<(index * 2640 + 2400)]
            #expect(DTMFGeneratorTests.toneLevel(piece, frequency: frequency) > -15, "\(frequency) Hz in step \(index)")
        }
    }

    @Test func everyZoneDefinesEveryNamedTone() {
        for zone in ToneZone.all {
            for tone in [ProgressTone.dial, .busy, .ringback, .congestion, .callWaiting, .recordTone, .specialInformation] {
                #expect(zone.definition(of: tone) != nil, "\(zone.name) lacks \(tone)")
            }
        }
        #expect(ToneZone.named("CN") == .cn)
        #expect(ToneZone.named("xx") == nil)
    }
}
