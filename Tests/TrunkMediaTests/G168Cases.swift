import G168Harness
import TrunkMedia

/// The measurement set-ups shared by the G.168 tests. Signals are generated
/// once (deterministic seeds) and reused by every case.
enum G168Cases {
    static let seconds = 10.0
    /// Bulk delay putting the echo late in a 128 ms window: 400 samples = 50 ms,
    /// so the models' responses end between 58 and 66 ms.
    static let longTailDelay = 400
    /// For the 256-tap tail: 100 samples (12.5 ms) keeps every model within 32 ms.
    static let shortTailDelay = 100
    static let erls: [Float] = [6, 10]

    struct Signal: Sendable {
        let name: String
        let samples: [Float]
    }

    static let speechLike: [Signal] = [
        Signal(name: "CSS −10 dBm0", samples: SpeechLikeSignal.compositeSource(seconds: seconds, activeLevel: -10, voiced: .tableC1, seed: 1)),
        Signal(name: "CSS −20 dBm0", samples: SpeechLikeSignal.compositeSource(seconds: seconds, activeLevel: -20, voiced: .tableC1, seed: 2)),
    ]
    static let whiteNoise = Signal(name: "white noise −10 dBm0", samples: SpeechLikeSignal.whiteNoise(seconds: seconds, level: -10, seed: 3))

    struct Result: Sendable {
        let meanERLE: Float
        let timeTo20dB: Double?
    }

    /// Runs one case with the NLP off (G.168 measures the linear canceller).
    static func measure(far: [Float], model: Int, erl: Float, taps: Int, delay: Int) -> Result {
        let scenario = EchoScenario(far: far, path: EchoPathModel(model: model, bulkDelay: delay), erl: erl)
        let canceller = EchoCanceller(configuration: .init(tailTaps: taps, nonLinearProcessing: false))
        let output = scenario.run(canceller)
        let erle = ERLEMeasurement(echo: scenario.echoOnly, residual: output)
        return Result(meanERLE: erle.meanERLE(from: 3, to: 10), timeTo20dB: erle.timeToReach(20))
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}
