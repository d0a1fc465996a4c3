import G168Harness
import Testing
import TrunkMedia

/// A 2 s near-end talker burst (a different speech-like signal: modulated
/// noise with word pauses) over a converged canceller must cost at most 6 dB
/// of ERLE measured in the second after the burst.
@Suite struct DoubleTalkTests {
    static let far = SpeechLikeSignal.compositeSource(seconds: 9, activeLevel: -10, voiced: .tableC1, seed: 21)
    static let burstStart = 4 * 8000
    static let burstEnd = 6 * 8000

    static func nearTalker(level: Float) -> [Float] {
        let talker = SpeechLikeSignal.modulatedNoiseTalker(seconds: 9, activeLevel: level, seed: 22)
        return talker.enumerated().map { $0.offset >= burstStart && $0.offset < burstEnd ? $0.element : 0 }
    }

    /// ERLE over [7 s, 8 s) with and without the burst (same echo, same noise).
    static func erleAfterBurst(model: Int, erl: Float, nearLevel: Float) -> (clean: Float, afterBurst: Float) {
        let path = EchoPathModel(model: model, bulkDelay: G168Cases.longTailDelay)
        let reference = EchoScenario(far: far, path: path, erl: erl)
        let withTalker = EchoScenario(far: far, path: path, erl: erl, nearTalker: nearTalker(level: nearLevel))
        let config = EchoCancellerConfiguration(tailTaps: 1024, nonLinearProcessing: false)
        let clean = ERLEMeasurement(echo: reference.echoOnly, residual: reference.run(EchoCanceller(configuration: config)))
        let disturbed = ERLEMeasurement(echo: withTalker.echoOnly, residual: withTalker.run(EchoCanceller(configuration: config)))
        return (clean.meanERLE(from: 7, to: 8), disturbed.meanERLE(from: 7, to: 8))
    }

    @Test(arguments: EchoPathModel.allModels)
    func burstCostsAtMostSixDecibels(model: Int) {
        for nearLevel: Float in [-10, -20] {
            for erl in G168Cases.erls {
                let r = Self.erleAfterBurst(model: model, erl: erl, nearLevel: nearLevel)
                #expect(r.clean - r.afterBurst <= 6,
                        "D.\(model) ERL \(erl) near \(nearLevel) dBm0: ERLE \(r.clean) → \(r.afterBurst) dB")
            }
        }
    }

    @Test func doubleTalkIsFlaggedDuringTheBurst() {
        let path = EchoPathModel(model: 2, bulkDelay: G168Cases.longTailDelay)
        let scenario = EchoScenario(far: Self.far, path: path, erl: 6, nearTalker: Self.nearTalker(level: -10))
        let canceller = EchoCanceller(configuration: .init(tailTaps: 1024, nonLinearProcessing: false))
        var flagged = 0
        var blocks = 0
        var falseAlarms = 0
        var quietBlocks = 0
        var output = [Int16](repeating: 0, count: 80)
        for start in stride(from: 0, to: scenario.reference.count, by: 80) {
            canceller.process(reference: Array(scenario.reference[start..<start + 80]),
                              nearEnd: Array(scenario.nearEnd[start..<start + 80]), output: &output)
            if start >= Self.burstStart, start < Self.burstEnd {
                blocks += 1
                if canceller.stats.doubleTalk { flagged += 1 }
            } else if start >= 2 * 8000 {
                quietBlocks += 1
                if canceller.stats.doubleTalk { falseAlarms += 1 }
            }
        }
        // The talker pauses between words and is modulated within them; a
        // third of the 10 ms blocks flagged means every word is seen. Echo
        // alone must (almost) never look like double talk once converged.
        #expect(Double(flagged) / Double(blocks) >= 0.3, "double talk flagged in \(flagged) of \(blocks) blocks")
        #expect(Double(falseAlarms) / Double(quietBlocks) <= 0.02, "false double talk in \(falseAlarms) of \(quietBlocks) blocks")
    }
}
