#if canImport(Glibc)
import Glibc
#endif
import G168Harness
import Testing
import TrunkMedia

/// G.165/G.168: a 2100 Hz tone with phase reversals every 450 ms disables the
/// canceller; the same tone without reversals does not.
@Suite struct ToneDisablingTests {
    static func answerTone(seconds: Double, reversals: Bool, level: Float = -12) -> [Int16] {
        let amplitude = Double(SignalLevel.rms(dBm0: level)) * 2.0.squareRoot()
        var phase: Double = 0
        var out: [Int16] = []
        for n in 0..<Int(seconds * 8000) {
            if reversals, n > 0, n % 3600 == 0 { phase += Double.pi }
            let angle = 2 * Double.pi * 2100 * Double(n) / 8000 + phase
            out.append(aLawRoundTrip(Int16((amplitude * sin(angle)).rounded())))
        }
        return out
    }

    static func run(_ canceller: EchoCanceller, reference: [Int16], near: [Int16]) -> (output: [Int16], disabledAt: Int?) {
        var output = [Int16](repeating: 0, count: reference.count)
        var block = [Int16](repeating: 0, count: 160)
        var disabledAt: Int?
        for start in stride(from: 0, to: reference.count, by: 160) {
            canceller.process(reference: Array(reference[start..<start + 160]), nearEnd: Array(near[start..<start + 160]), output: &block)
            output.replaceSubrange(start..<start + 160, with: block)
            if disabledAt == nil, canceller.stats.disabledByTone { disabledAt = start + 160 }
        }
        return (output, disabledAt)
    }

    @Test func phaseReversedToneDisablesUntilReset() {
        let tone = Self.answerTone(seconds: 2, reversals: true)
        let echo = EchoScenario(far: tone.map { Float($0) }, path: EchoPathModel(model: 3, bulkDelay: 100), erl: 10)
        let canceller = EchoCanceller(configuration: .init(tailTaps: 256))
        let (output, disabledAt) = Self.run(canceller, reference: echo.reference, near: echo.nearEnd)
        let at = try! #require(disabledAt)
        // First reversal at 450 ms; G.165 allows up to 1 s to disable.
        #expect(at <= 8000, "disabled after \(at) samples")
        // Disabled means transparent: Sout = Sin.
        #expect(Array(output[(at + 160)...]) == Array(echo.nearEnd[(at + 160)...]))
        canceller.reset()
        #expect(canceller.stats.disabledByTone == false)
    }

    @Test(arguments: [EchoPathModel.allModels[0]])
    func toneWithoutReversalsKeepsCancelling(model: Int) {
        let tone = Self.answerTone(seconds: 3, reversals: false)
        let echo = EchoScenario(far: tone.map { Float($0) }, path: EchoPathModel(model: model, bulkDelay: 100), erl: 10)
        let canceller = EchoCanceller(configuration: .init(tailTaps: 256))
        let (_, disabledAt) = Self.run(canceller, reference: echo.reference, near: echo.nearEnd)
        #expect(disabledAt == nil)
    }

    @Test func toneDisablingCanBeTurnedOff() {
        let tone = Self.answerTone(seconds: 2, reversals: true)
        let canceller = EchoCanceller(configuration: .init(tailTaps: 256, toneDisabling: false))
        let (_, disabledAt) = Self.run(canceller, reference: tone, near: tone)
        #expect(disabledAt == nil)
    }
}
