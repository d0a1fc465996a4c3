#if canImport(Glibc)
import Glibc
#endif
import G168Harness
import Testing
import TrunkCore
import TrunkHardware
@testable import TrunkMedia

/// Issue #5, echo acceptance: "In a simulator call over an analog pair with an echo path
/// configured, the residual echo heard on the trunk side is measured and stays below
/// −50 dBm0 with NLP on."
///
/// The call is carried as the gateway carries it (see ``AnalogCallLab``): caller on span 1 →
/// PRI B-channel on span 2 → media loop cross-connect → FXO port on span 4 → analog line →
/// FXS port on span 3 (the agent). The FXO port's hybrid echoes what the gateway sends down
/// the line through a G.168 model; the canceller sits on the FXO channel in the loop.
/// Each case is run three times on fresh, identical labs — canceller off, canceller with the
/// NLP off, canceller with the NLP on — so the runs' samples line up exactly and the
/// canceller-off run tells where the echo is.
@Suite("Residual echo on a simulated analog call")
struct AnalogEchoPathTests {
    struct EchoCase: Sendable, CustomTestStringConvertible {
        /// `Impairments.echoModel`: 1…8 for G.168 D.2…D.9.
        let model: Int
        let erl: Double
        let delayMs: Int
        var testDescription: String { "G.168 D.\(model + 1), ERL \(Int(erl)) dB, echo delay \(delayMs) ms" }
    }

    static let cases = [
        EchoCase(model: 1, erl: 6, delayMs: 0),
        EchoCase(model: 3, erl: 10, delayMs: 20),
        EchoCase(model: 5, erl: 6, delayMs: 40),
    ]

    /// The gateway's block size (`CallMediaEngine.lab`).
    static let blockSize = MediaBlockSize.ms8
    /// The production canceller: 128 ms tail (covers the loop's blocks, the line's delay and
    /// the model's response), comfort noise on.
    static let tailTaps = 1024
    static let callerLevel: Float = -15
    static let agentLevel: Float = -15
    static let sampleRate = 8000
    /// Timeline, in seconds of the caller's stream: pure echo until `doubleTalkStart`, the
    /// agent talks until `doubleTalkEnd`, then pure echo again until `seconds`. The echo comes
    /// back up to about 100 ms after the caller said it, and the agent is heard sooner, so the
    /// echo measurement ends a quarter second before the agent starts.
    static let seconds = 11.5
    static let measuredEcho = 2.5..<7.5
    static let doubleTalkStart = 7.75
    static let doubleTalkEnd = 9.75
    static let afterDoubleTalk = 10.75..<11.5

    /// The caller's speech as it is sent (A-law on span 1) and as linear samples.
    static let callerSignal: [Int16] = SpeechLikeSignal
        .compositeSource(seconds: seconds, activeLevel: callerLevel, voiced: .tableC1, seed: 51)
        .map { aLawRoundTrip(Int16(max(-32768, min(32767, $0.rounded())))) }
    /// The agent: silent, then a talker unlike the caller, then silent.
    static let agentSignal: [Int16] = {
        let start = Int(doubleTalkStart * Double(sampleRate))
        let talk = SpeechLikeSignal.modulatedNoiseTalker(seconds: doubleTalkEnd - doubleTalkStart, activeLevel: agentLevel, seed: 52)
        var signal = [Int16](repeating: 0, count: Int(seconds * Double(sampleRate)))
        for (index, value) in talk.enumerated() { signal[start + index] = Int16(max(-32768, min(32767, value.rounded()))) }
        return signal
    }()

    enum Canceller: String { case off = "canceller off", linear = "NLP off", full = "NLP on" }

    struct Run {
        let callerHeard: [Int16]
        let agentHeard: [Int16]
        let agentEvents: [ChannelEvent.Kind]
        let fxoHook: HookState
        let fxsHook: HookState
    }

    static func run(_ echoCase: EchoCase, _ canceller: Canceller) throws -> Run {
        var echo = Impairments()
        echo.echoModel = echoCase.model
        echo.echoReturnLossDB = echoCase.erl
        echo.echoDelayMs = echoCase.delayMs
        let configuration: EchoCancellerConfiguration? = switch canceller {
        case .off: nil
        case .linear: EchoCancellerConfiguration(tailTaps: tailTaps, nonLinearProcessing: false)
        case .full: EchoCancellerConfiguration(tailTaps: tailTaps, nonLinearProcessing: true)
        }
        let lab = try AnalogCallLab(blockSize: blockSize, echo: echo, canceller: configuration)
        lab.caller.stream = callerSignal.map(G711.linearToAlaw)
        lab.agent.stream = agentSignal
        lab.run(ticks: Int(seconds * 1000) + 300)
        return Run(callerHeard: lab.callerHeard, agentHeard: lab.agent.received, agentEvents: lab.agent.events,
                   fxoHook: lab.fxo.parameters().hookState, fxsHook: lab.agent.device.parameters().hookState)
    }

    static func samples(_ seconds: Double) -> Int { Int(seconds * Double(sampleRate)) }

    @Test("the caller hears residual echo below −50 dBm0 with the NLP on; the canceller makes the difference; double talk passes",
          arguments: cases)
    func residualEchoOnAnalogCall(echoCase: EchoCase) throws {
        typealias M = AnalogEchoMeasurement
        let off = try Self.run(echoCase, .off)
        let linear = try Self.run(echoCase, .linear)
        let full = try Self.run(echoCase, .full)

        // The call is up: the FXO port seized the line, the FXS end saw the loop close, and the
        // agent hears the caller.
        #expect(off.fxoHook == .offHook && off.fxsHook == .offHook)
        #expect(off.agentEvents.contains(.ringOffHook))
        let forward = M.delay(of: Self.callerSignal, in: off.agentHeard, over: Self.samples(1)..<Self.samples(2), maximumLag: 1200)
        let agentHears = M.dBm0(power: M.power(off.agentHeard, (Self.samples(1) + forward)..<(Self.samples(7) + forward)))
        let callerSends = M.dBm0(power: M.power(Self.callerSignal, Self.samples(1)..<Self.samples(7)))
        #expect(abs(agentHears - callerSends) < 0.5, "the agent hears the caller at \(agentHears) dBm0, sent at \(callerSends) dBm0")

        // Where the echo is: the round trip caller → FXO hybrid → caller, from the run without
        // a canceller; windows whose echo is above −45 dBm0 (as ERLEMeasurement counts them).
        let roundTrip = M.delay(of: Self.callerSignal, in: off.callerHeard, over: Self.samples(1)..<Self.samples(2), maximumLag: 1200)
        let window = ERLEMeasurement.windowLength
        let echoThreshold = Double(SignalLevel.power(dBm0: ERLEMeasurement.activeEchoLevel))
        let echoActive: (Range<Int>) -> Bool = { M.power(off.callerHeard, $0) >= echoThreshold }
        func heard(_ seconds: Range<Double>) -> Range<Int> {
            (Self.samples(seconds.lowerBound) + roundTrip)..<(Self.samples(seconds.upperBound) + roundTrip)
        }
        let measured = heard(Self.measuredEcho)
        let echoLevel = M.gatedPower(off.callerHeard, over: measured, window: window, active: echoActive)
        let linearLevel = M.gatedPower(linear.callerHeard, over: measured, window: window, active: echoActive)
        let residual = M.gatedPower(full.callerHeard, over: measured, window: window, active: echoActive)
        let worstWindow = stride(from: measured.lowerBound, to: measured.upperBound - window + 1, by: window)
            .map { $0..<($0 + window) }
            .filter(echoActive)
            .map { M.dBm0(power: M.power(full.callerHeard, $0)) }
            .max() ?? -.infinity
        let afterDoubleTalk = M.gatedPower(full.callerHeard, over: heard(Self.afterDoubleTalk), window: window, active: echoActive)
        let linearAfterDoubleTalk = M.gatedPower(linear.callerHeard, over: heard(Self.afterDoubleTalk), window: window, active: echoActive)
        let linearERLE = 10 * log10(echoLevel.power / max(linearLevel.power, 1e-12))

        // Double talk: the agent's speech as the caller hears it, against what the agent sent
        // (as it crossed the line, A-law), in 20 ms windows where the agent talks.
        let agentOnLine = Self.agentSignal.map(aLawRoundTrip)
        let talk = Self.samples(Self.doubleTalkStart)..<Self.samples(Self.doubleTalkEnd)
        let nearPath = M.delay(of: agentOnLine, in: off.callerHeard, over: talk.lowerBound..<(talk.lowerBound + Self.samples(1)), maximumLag: 1200)
        let talkThreshold = Double(SignalLevel.power(dBm0: -40))
        var sent: Double = 0
        var passed: [Canceller: Double] = [:]
        var clipped: [Canceller: Int] = [:]
        var talkWindows = 0
        for start in stride(from: talk.lowerBound, to: talk.upperBound - 160 + 1, by: 160) {
            let w = start..<(start + 160)
            let p = M.power(agentOnLine, w)
            guard p >= talkThreshold else { continue }
            talkWindows += 1
            sent += p
            for (kind, run) in [(Canceller.off, off), (.linear, linear), (.full, full)] {
                let q = M.power(run.callerHeard, (start + nearPath)..<(start + nearPath + 160))
                passed[kind, default: 0] += q
                if q < p / 4 { clipped[kind, default: 0] += 1 }
            }
        }
        let sentLevel = M.dBm0(power: sent / Double(max(talkWindows, 1)))
        let passedLevel = M.dBm0(power: (passed[.full] ?? 0) / Double(max(talkWindows, 1)))
        let passedLinear = M.dBm0(power: (passed[.linear] ?? 0) / Double(max(talkWindows, 1)))

        let summary = """
            analog echo \(echoCase.testDescription): round trip \(roundTrip) samples, \(echoLevel.windows) echo windows; \
            echo (canceller off) \(fmt(M.dBm0(power: echoLevel.power))) dBm0, NLP off \(fmt(M.dBm0(power: linearLevel.power))) dBm0 \
            (ERLE \(fmt(linearERLE)) dB; \(fmt(M.dBm0(power: linearAfterDoubleTalk.power))) dBm0 from 1 s after double talk), \
            NLP on \(fmt(M.dBm0(power: residual.power))) dBm0 (worst 50 ms \(fmt(worstWindow)) dBm0; \
            from 1 s after double talk \(fmt(M.dBm0(power: afterDoubleTalk.power))) dBm0); \
            double talk: agent sent \(fmt(sentLevel)) dBm0, caller hears it at \(fmt(passedLevel)) dBm0 NLP on \
            (\(clipped[.full] ?? 0)/\(talkWindows) 20 ms windows clipped > 6 dB), \(fmt(passedLinear)) dBm0 NLP off \
            (\(clipped[.linear] ?? 0) clipped)
            """
        print(summary)

        // The caller's speech-like signal is active about 70 % of the time.
        #expect(echoLevel.windows >= measured.count / window / 2, "too few windows with echo: \(summary)")
        // The echo is really there without the canceller, far above the target…
        #expect(M.dBm0(power: echoLevel.power) > -40, "\(summary)")
        // The linear canceller in the loop does as well as on the G.168 bench (issue #5: mean
        // ERLE ≥ 28 dB on speech-like signals at 1024 taps)…
        #expect(linearERLE >= 28, "\(summary)")
        // …and with its NLP the caller hears less than −50 dBm0 (−66 dBm0 is A-law's idle
        // code, ±8, the quietest the caller can hear).
        #expect(M.dBm0(power: residual.power) < -50, "\(summary)")
        #expect(M.dBm0(power: afterDoubleTalk.power) < -50, "\(summary)")
        // Double talk: the agent's speech reaches the caller, not clipped by the NLP: within
        // 3 dB of what was sent on average, and no more than 10 % of its 20 ms windows more
        // than 6 dB down. The canceller alone (NLP off) passes it whole.
        #expect(talkWindows >= 50)
        #expect(sentLevel - passedLinear <= 0.5, "\(summary)")
        #expect(sentLevel - passedLevel <= 3, "\(summary)")
        // The agent talking over the caller's echo must come through the NLP, not be gated.
        #expect(Double(clipped[.full] ?? 0) <= 0.1 * Double(talkWindows), "\(summary)")
    }
}

private func fmt(_ value: Double) -> String {
    guard value.isFinite else { return "\(value)" }
    let tenths = (value * 10).rounded() / 10
    return "\(tenths)"
}
