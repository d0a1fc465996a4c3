import CMallocCounter
import G168Harness
import Testing
import TrunkMedia

@Suite struct EchoCancellerBehaviourTests {
    static let scenario = EchoScenario(
        far: SpeechLikeSignal.compositeSource(seconds: 4, activeLevel: -15, voiced: .tableC3, seed: 31),
        path: EchoPathModel(model: 4, bulkDelay: 200), erl: 6)

    @Test func statsReportConvergence() {
        let canceller = EchoCanceller(configuration: .init(tailTaps: 512, nonLinearProcessing: false))
        #expect(canceller.stats.converged == false)
        _ = Self.scenario.run(canceller)
        let stats = canceller.stats
        #expect(stats.converged)
        #expect(stats.erleDecibels > 25, "ERLE estimate \(stats.erleDecibels)")
        #expect(stats.samplesProcessed == Self.scenario.reference.count)
        canceller.reset()
        #expect(canceller.stats.converged == false)
        #expect(canceller.stats.samplesProcessed == 0)
    }

    /// With the NLP on, residual echo during far-end speech is replaced by
    /// comfort noise near the −65 dBm0 background, or by silence.
    @Test(arguments: [true, false])
    func nlpRemovesResidualEcho(comfortNoise: Bool) {
        let canceller = EchoCanceller(configuration: .init(tailTaps: 512, nonLinearProcessing: true, comfortNoise: comfortNoise))
        let output = Self.scenario.run(canceller)
        let erle = ERLEMeasurement(echo: Self.scenario.echoOnly, residual: output)
        #expect(erle.meanERLE(from: 2, to: 4) >= 40, "ERLE with NLP \(erle.meanERLE(from: 2, to: 4))")
        // Over the last second (speech and pauses) the far end hears only the
        // −65 dBm0 background, comfort noise at about that level, or silence.
        var power: Double = 0
        for s in output[(3 * 8000)..<(4 * 8000)] { power += Double(s) * Double(s) }
        let level = SignalLevel.dBm0(power: Float(power / 8000))
        #expect(level > -80 && level < -58, "output level \(level) dBm0")
    }

    /// Any block length gives the same output: the canceller is sample-exact
    /// whether DAHDI hands it 8 samples or Asterisk-style 160.
    @Test func blockLengthDoesNotChangeTheOutput() {
        let a = Self.scenario.run(EchoCanceller(configuration: .init(tailTaps: 256)), blockLength: 8)
        let b = Self.scenario.run(EchoCanceller(configuration: .init(tailTaps: 256)), blockLength: 173)
        #expect(a == b)
    }

    /// Processing never touches the heap: the calling thread makes no
    /// allocation over 8 channels × 1000 blocks of 8 samples once the channels
    /// are open (every buffer is allocated in `init`).
    @Test func processingDoesNotAllocate() {
        let cancellers = (0..<8).map { _ in EchoCanceller(configuration: .init(tailTaps: 1024)) }
        let reference = Array(Self.scenario.reference.prefix(8000))
        let near = Array(Self.scenario.nearEnd.prefix(8000))
        var output = [Int16](repeating: 0, count: 8)
        reference.withUnsafeBufferPointer { r in
            near.withUnsafeBufferPointer { s in
                output.withUnsafeMutableBufferPointer { o in
                    // Warm-up pass initialises lazy globals once.
                    for c in cancellers {
                        c.process(reference: UnsafeBufferPointer(rebasing: r[0..<8]), nearEnd: UnsafeBufferPointer(rebasing: s[0..<8]), output: o)
                    }
                    // Indexing an unsafe buffer: in a debug build, iterating
                    // the Array itself allocates a coroutine frame per element.
                    cancellers.withUnsafeBufferPointer { channels in
                        malloc_counter_start()
                        for block in 0..<1000 {
                            let range = (block * 8)..<(block * 8 + 8)
                            for i in 0..<channels.count {
                                channels[i].process(reference: UnsafeBufferPointer(rebasing: r[range]), nearEnd: UnsafeBufferPointer(rebasing: s[range]), output: o)
                            }
                        }
                        let allocations = malloc_counter_stop()
                        #expect(allocations == 0, "\(allocations) allocations while processing")
                    }
                }
            }
        }
    }

    /// The probe itself must see allocations, or the test above proves nothing.
    @Test func allocationProbeCountsAllocations() {
        malloc_counter_start()
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: 1000)
        buffer.deallocate()
        #expect(malloc_counter_stop() > 0)
    }
}
