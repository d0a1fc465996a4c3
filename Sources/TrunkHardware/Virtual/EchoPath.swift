import CG168
#if canImport(Glibc)
import Glibc
#endif
import TrunkCore

/// A hybrid echo path at an analog port: the port's own transmitted signal leaks back into
/// what it receives through one of the ITU-T G.168 Annex D impulse responses, scaled to a
/// given echo return loss and shifted by a bulk delay. This gives an echo canceller real work.
struct EchoPath {
    let model: Int
    let erlDB: Double
    let delayMs: Int
    private let taps: [Float]
    private var history: [Float]
    private var position = 0

    static var modelCount: Int { Int(cg168_model_count()) }

    init(model: Int, erlDB: Double, delayMs: Int) throws(TrunkError) {
        guard model >= 1 && model <= Self.modelCount else {
            throw TrunkError(.invalidArgument, "echo model must be 1…\(Self.modelCount) (G.168 D.2…D.\(Self.modelCount + 1)), not \(model)")
        }
        guard erlDB >= 0 && erlDB <= 60 else { throw TrunkError(.invalidArgument, "echo return loss must be 0…60 dB, not \(erlDB)") }
        guard delayMs >= 0 && delayMs <= 100 else { throw TrunkError(.invalidArgument, "echo delay must be 0…100 ms, not \(delayMs)") }
        let index = Int32(model - 1)
        let count = Int(cg168_model_length(index))
        let coefficients = cg168_model_coeffs(index)!
        var response = (0..<count).map { Double(coefficients[$0]) }
        // Scale so a white input comes back attenuated by exactly the requested ERL.
        let energy = response.reduce(0) { $0 + $1 * $1 }
        let scale = (energy > 0 ? 1 / energy.squareRoot() : 0) * pow(10, -erlDB / 20)
        response = response.map { $0 * scale }
        let delaySamples = delayMs * Tick.sampleRate / 1000
        self.model = model
        self.erlDB = erlDB
        self.delayMs = delayMs
        self.taps = Array(repeating: 0, count: delaySamples) + response.map(Float.init)
        self.history = Array(repeating: 0, count: taps.count)
    }

    /// Feeds the port's transmitted samples and returns the echo they cause, sample by sample.
    mutating func echo(of transmitted: SIMD8<Int16>) -> SIMD8<Float> {
        var out = SIMD8<Float>(repeating: 0)
        let length = taps.count
        for lane in 0..<8 {
            history[position] = Float(transmitted[lane])
            var sum: Float = 0
            var index = position
            for tap in 0..<length {
                sum += taps[tap] * history[index]
                index = index == 0 ? length - 1 : index - 1
            }
            out[lane] = sum
            position = position + 1 == length ? 0 : position + 1
        }
        return out
    }
}

