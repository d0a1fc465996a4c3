import G168Harness
import Testing
import TrunkAnalog
import TrunkCore
import TrunkHardware
import TrunkMedia

/// Call progress end to end: the FXO dials out over the simulated line, the FXS side plays what
/// the far end would (China's tones from the tone plan, a voice, a fax), and the FXO's driver
/// classifies it with media-dsp's call-progress and modem-tone detectors.
@Suite("Call progress on the simulated line")
struct CallProgressLineTests {
    enum FarEnd: Sendable {
        case tone(ProgressTone)
        /// Answers and talks `audio` (generated when the case runs).
        case answers(@Sendable () -> [Int16])
        /// Plays ringback for `ms`, then answers and talks.
        case ringsThenAnswers(ms: Int, @Sendable () -> [Int16])
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var farEnd: FarEnd
        var expected: [CallProgressOutcome]
        var testDescription: String { name }
    }

    static func speech() -> [Int16] { CallProgressTests.speech(seconds: 4, level: -18, seed: 31) }

    static func sit() -> [Int16] {
        var out = [Int16](repeating: 0, count: 3 * 8000)
        _ = out.withUnsafeMutableBufferPointer { ToneGenerator(ToneZone.cn.definition(of: .specialInformation)!).fill($0) }
        return out
    }

    static let cases: [Case] = [
        Case(name: "ringback, then a voice answers", farEnd: .ringsThenAnswers(ms: 6000, speech), expected: [.ringback, .voice]),
        Case(name: "busy", farEnd: .tone(.busy), expected: [.busy]),
        Case(name: "congestion", farEnd: .tone(.congestion), expected: [.congestion]),
        Case(name: "voice answer", farEnd: .answers(speech), expected: [.voice]),
        Case(name: "fax answer tone (CED)", farEnd: .answers({ Level.tone(2100, dBm0: -12, samples: 4 * 8000) }), expected: [.fax]),
        Case(name: "special information tone", farEnd: .answers(sit), expected: [.specialInformation]),
    ]

    @Test("each far-end behaviour is classified", arguments: cases)
    func classify(_ testCase: Case) throws {
        var fxoConfiguration = FXOConfiguration()
        fxoConfiguration.dialToneWait = .fixed(ms: 200)
        fxoConfiguration.dialMode = .pulse
        var fxsConfiguration = FXSConfiguration()
        fxsConfiguration.interDigitTimeoutMs = 1000
        let lab = try AnalogLab(port: 3, fxsConfiguration: fxsConfiguration, fxoConfiguration: fxoConfiguration,
                                // One confirmed cycle: a dialler wants ringback within a cycle, not two.
                                fxoDetectors: [CallProgressToneDetector(zone: .cn, configuration: CallProgressConfiguration(confirmedCycles: 1)),
                                               ModemToneDetector()],
                                tones: ToneSupervisionTests.tones(), callProgress: CallProgressAnalysisConfiguration())
        lab.fxoRequest { port, now, actions in port.dial("12", now: now, into: &actions) }
        lab.run(ms: 10_000) { $0.fxsSaw { if case .digitsCollected = $0 { true } else { false } } != nil }
        #expect(lab.fxsSaw { $0 == .digitsCollected("12") } != nil)
        let farEndAt = lab.now
        switch testCase.farEnd {
        case .tone(let tone):
            lab.fxsRequest { port, now, actions in port.playTone(tone, now: now, into: &actions) }
        case .answers(let audio):
            lab.fxsRequest { port, now, actions in port.farEndAnswered(now: now, into: &actions) }
            lab.fxsTalk = audio()
        case .ringsThenAnswers(let ms, let audio):
            lab.fxsRequest { port, now, actions in port.playTone(.ringback, now: now, into: &actions) }
            lab.run(ms: ms)
            lab.fxsRequest { port, now, actions in port.farEndAnswered(now: now, into: &actions) }
            lab.fxsTalk = audio()
        }
        let outcomes = { (lab: AnalogLab) in lab.fxoIndications.compactMap { if case .callProgress(let event) = $0.indication { event } else { nil } } }
        lab.run(ms: 12_000) { outcomes($0).last?.outcome.isFinal == true }
        let events = outcomes(lab)
        #expect(events.map(\.outcome) == testCase.expected)
        for event in events {
            #expect(event.began >= farEndAt + -20 && event.decided >= event.began, "\(event)")
        }
    }
}
