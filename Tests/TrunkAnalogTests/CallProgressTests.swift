#if canImport(Glibc)
import Glibc
#endif
import G168Harness
import Testing
import TrunkAnalog
import TrunkMedia

/// Call progress analysis over generated audio (its energy measured frame by frame, as the
/// driver does) and tone detections at the times a cadence detector would confirm them.
@Suite("Call progress analysis")
struct CallProgressTests {
    /// China's tones: 450 Hz with the given cadence (on, off) in ms, at `level` dBm0.
    static func cadencedTone(_ frequency: Float, on: Int, off: Int, level: Float, seconds: Int) -> [Int16] {
        let tone = Level.tone(frequency, dBm0: level, samples: on * 8)
        var out: [Int16] = []
        while out.count < seconds * 8000 { out += tone + [Int16](repeating: 0, count: off * 8) }
        return Array(out.prefix(seconds * 8000))
    }

    static func speech(seconds: Double, level: Float, seed: UInt64) -> [Int16] {
        SpeechLikeSignal.modulatedNoiseTalker(seconds: seconds, activeLevel: level, seed: seed).map { Int16(clamping: Int($0.rounded())) }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var audio: @Sendable () -> [Int16]
        /// Detections: (ms at which the detector reports, what, ms at which it began).
        var detections: [(at: Int64, kind: MediaDetection.Kind, began: Int64)]
        var expected: [CallProgressOutcome]
        /// Bounds on when the final outcome's evidence began, in ms.
        var began: ClosedRange<Int64>?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "ringback", audio: { cadencedTone(450, on: 1000, off: 4000, level: -20, seconds: 12) },
             detections: [(5600, .toneStarted(.ringback), 0)], expected: [.ringback], began: 0...0),
        Case(name: "busy", audio: { cadencedTone(450, on: 350, off: 350, level: -15, seconds: 4) },
             detections: [(1400, .toneStarted(.busy), 0)], expected: [.busy], began: 0...0),
        Case(name: "congestion", audio: { cadencedTone(450, on: 700, off: 700, level: -15, seconds: 6) },
             detections: [(2800, .toneStarted(.congestion), 0)], expected: [.congestion], began: 0...0),
        Case(name: "voice answer", audio: { [Int16](repeating: 0, count: 4000) + speech(seconds: 5, level: -20, seed: 3) },
             detections: [], expected: [.voice], began: 480...560),
        Case(name: "quiet voice answer at −35 dBm0", audio: { speech(seconds: 5, level: -35, seed: 8) },
             detections: [], expected: [.voice], began: 0...40),
        Case(name: "ringback then voice", audio: { cadencedTone(450, on: 1000, off: 4000, level: -20, seconds: 6) + speech(seconds: 4, level: -18, seed: 4) },
             detections: [(5600, .toneStarted(.ringback), 0), (6000, .toneEnded(.ringback), 5000)], expected: [.ringback, .voice], began: 5960...6100),
        Case(name: "special information tone", audio: { Array(repeating: Level.tone(950, dBm0: -20, samples: 2640) + Level.tone(1400, dBm0: -20, samples: 2640) + Level.tone(1800, dBm0: -20, samples: 2640) + [Int16](repeating: 0, count: 8000), count: 3).flatMap { $0 } },
             detections: [(1000, .toneStarted(.specialInformation), 0)], expected: [.specialInformation], began: 0...0),
        Case(name: "fax answer tone (CED)", audio: { Level.tone(2100, dBm0: -12, samples: 24_000) },
             detections: [(2700, .toneStarted(.answerTone), 0)], expected: [.fax], began: 0...0),
        Case(name: "fax calling tone (CNG)", audio: { cadencedTone(1100, on: 500, off: 3000, level: -15, seconds: 8) },
             detections: [(4000, .toneStarted(.faxCalling), 0)], expected: [.fax], began: 0...0),
        Case(name: "modem answer with phase reversals", audio: { Level.tone(2100, dBm0: -12, samples: 24_000) },
             detections: [(1000, .toneStarted(.answerToneWithReversals), 0)], expected: [.modem], began: 0...0),
        Case(name: "silence", audio: { Level.noise(dBm0: -60, samples: 12 * 8000) },
             detections: [], expected: [.silence], began: 0...0),
        // Before the detector has confirmed ringback's cadence, the steady tone is not a voice.
        Case(name: "ringback the detector has not confirmed yet", audio: { cadencedTone(450, on: 1000, off: 4000, level: -10, seconds: 7) },
             detections: [], expected: [], began: nil),
    ]

    static func analyse(_ testCase: Case) -> [CallProgressEvent] {
        var analyzer = CallProgressAnalyzer()
        var meter = FrameEnergyMeter()
        var events: [CallProgressEvent] = []
        analyzer.start(now: AnalogInstant(milliseconds: 0))
        var pending = testCase.detections[...]
        let audio = testCase.audio()
        audio.withUnsafeBufferPointer { buffer in
            for start in stride(from: 0, to: buffer.count - 7, by: 8) {
                let now = AnalogInstant(milliseconds: Int64(start / 8 + 1))
                while let next = pending.first, next.at <= now.milliseconds {
                    pending = pending.dropFirst()
                    if let event = analyzer.detected(next.kind, startedAt: AnalogInstant(milliseconds: next.began), now: now) { events.append(event) }
                }
                meter.add(UnsafeBufferPointer(rebasing: buffer[start..<(start + 8)])) { level in
                    if let event = analyzer.frame(levelDBm0: level, now: now) { events.append(event) }
                }
            }
        }
        return events
    }

    @Test("each generated call outcome is classified, with when it began", arguments: cases)
    func classify(_ testCase: Case) {
        let events = Self.analyse(testCase)
        #expect(events.map(\.outcome) == testCase.expected)
        if let range = testCase.began, let last = events.last {
            #expect(range.contains(last.began.milliseconds), "\(testCase.name): began at \(last.began)")
            #expect(last.decided >= last.began)
        }
    }

    @Test("voice is decided within a second of its start at −15…−35 dBm0", arguments: [-15, -25, -35] as [Float])
    func voiceDelay(level: Float) throws {
        let testCase = Case(name: "voice", audio: { [Int16](repeating: 0, count: 8000) + Self.speech(seconds: 4, level: level, seed: 21) },
                            detections: [], expected: [.voice], began: nil)
        let event = try #require(Self.analyse(testCase).first)
        #expect(event.outcome == .voice)
        #expect(event.decided.milliseconds - 1000 <= 1000)
    }
}
