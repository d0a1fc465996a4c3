import G168Harness
import TrunkMedia

/// Prints the G.168-style ERLE measurements for every echo path model: the
/// same cases the tests check, with numbers instead of pass/fail.
enum G168Report {
    static func run(taps: Int, bulkDelay: Int) {
        print("tail \(taps) taps, bulk delay \(bulkDelay) samples, NLP off, A-law both ways, noise −65 dBm0")
        print("signal            model ERL  ERLE3-10  t20(s) ideal-canceller ERLE (noise + A-law floor)")
        let signals: [(String, [Float])] = [
            ("CSS c1 -10dBm0", SpeechLikeSignal.compositeSource(seconds: 10, activeLevel: -10, voiced: .tableC1, seed: 1)),
            ("CSS c1 -20dBm0", SpeechLikeSignal.compositeSource(seconds: 10, activeLevel: -20, voiced: .tableC1, seed: 2)),
            ("white -10dBm0", SpeechLikeSignal.whiteNoise(seconds: 10, level: -10, seed: 3)),
        ]
        for (name, far) in signals {
            for model in EchoPathModel.allModels {
                for erl: Float in [6, 10] {
                    let path = EchoPathModel(model: model, bulkDelay: bulkDelay)
                    let scenario = EchoScenario(far: far, path: path, erl: erl)
                    let canceller = EchoCanceller(configuration: .init(tailTaps: taps, nonLinearProcessing: false))
                    let out = scenario.run(canceller)
                    let m = ERLEMeasurement(echo: scenario.echoOnly, residual: out)
                    let floor = ERLEMeasurement(echo: scenario.echoOnly, residual: scenario.irreducible).meanERLE(from: 3, to: 10)
                    let t = m.timeToReach(20).map { String(format2($0)) } ?? "never"
                    print("\(name.padding(16)) D.\(model)  \(Int(erl))   \(format2(Double(m.meanERLE(from: 3, to: 10))).padding(8))  \(t.padding(6)) floor \(format2(Double(floor)))")
                }
            }
        }
    }
}

extension G168Report {
    /// Same set-up as DoubleTalkTests: far CSS −10 dBm0, 2 s near talker from
    /// 4 s, ERLE over [7, 8) s with and without the burst.
    static func doubleTalk() {
        let far = SpeechLikeSignal.compositeSource(seconds: 9, activeLevel: -10, voiced: .tableC1, seed: 21)
        print("model ERL near-dBm0  ERLE-clean  ERLE-after  cost(dB)")
        for nearLevel: Float in [-10, -20] {
            let talker = SpeechLikeSignal.modulatedNoiseTalker(seconds: 9, activeLevel: nearLevel, seed: 22)
            let burst = talker.enumerated().map { $0.offset >= 32000 && $0.offset < 48000 ? $0.element : 0 }
            for model in EchoPathModel.allModels {
                for erl: Float in [6, 10] {
                    let path = EchoPathModel(model: model, bulkDelay: 400)
                    let reference = EchoScenario(far: far, path: path, erl: erl)
                    let disturbed = EchoScenario(far: far, path: path, erl: erl, nearTalker: burst)
                    let config = EchoCancellerConfiguration(tailTaps: 1024, nonLinearProcessing: false)
                    let a = ERLEMeasurement(echo: reference.echoOnly, residual: reference.run(EchoCanceller(configuration: config))).meanERLE(from: 7, to: 8)
                    let b = ERLEMeasurement(echo: disturbed.echoOnly, residual: disturbed.run(EchoCanceller(configuration: config))).meanERLE(from: 7, to: 8)
                    print("D.\(model)   \(Int(erl))   \(Int(nearLevel))         \(format2(Double(a)).padding(11)) \(format2(Double(b)).padding(11)) \(format2(Double(a - b)))")
                }
            }
        }
    }
}

func format2(_ x: Double) -> String {
    let scaled = (x * 100).rounded() / 100
    return "\(scaled)"
}

extension String {
    func padding(_ n: Int) -> String {
        count >= n ? self : self + String(repeating: " ", count: n - count)
    }
}
