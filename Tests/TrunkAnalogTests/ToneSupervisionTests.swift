#if canImport(Glibc)
import Glibc
#endif
import G168Harness
import Testing
import TrunkAnalog
import TrunkCore
import TrunkHardware
import TrunkMedia

/// Tone-driven supervision end to end: the FXS side plays China's tones with media-dsp's
/// generator, the FXO side hears them through the simulated line with media-dsp's detectors.
@Suite("Busy-tone disconnect, dial tone and DTMF on the simulated line")
struct ToneSupervisionTests {
    /// China's tone plan, its tones at `level` dBm0 instead of the plan's levels.
    static func tones(level: Int? = nil) -> ToneZone {
        var zone = ToneZone.cn
        if let level {
            for tone in zone.tones.indices {
                for segment in zone.tones[tone].segments.indices where !zone.tones[tone].segments[segment].isSilence {
                    zone.tones[tone].segments[segment].levelDBm0 = level
                }
            }
        }
        return zone
    }

    static func busyDetector(confirmedCycles: Int = 2) -> CallProgressToneDetector {
        CallProgressToneDetector(zone: .cn, configuration: CallProgressConfiguration(confirmedCycles: confirmedCycles,
                                                                                     tones: [.busy, .congestion, .dial, .ringback]))
    }

    @Test("the exchange's busy tone disconnects within three cadence cycles, at −10…−30 dBm0 with line noise",
          arguments: [-10, -20, -30])
    func busyToneDisconnect(level: Int) throws {
        var fxsConfiguration = FXSConfiguration()
        fxsConfiguration.releaseSignal = .busyTone
        var fxoConfiguration = FXOConfiguration()
        fxoConfiguration.toneDisconnectCycles = 3
        let lab = try AnalogCallTests.connectedCall(port: 1, fxsConfiguration: fxsConfiguration, fxoConfiguration: fxoConfiguration,
                                                    fxoDetectors: [Self.busyDetector()], tones: Self.tones(level: level))
        #expect(lab.fxo.machine.stateName == "connected")
        // White noise 20 dB under the quietest tone.
        lab.fxoNoiseRMS = SignalLevel.rms(dBm0: -50)
        let releasedAt = lab.now
        lab.fxsRequest { port, now, actions in port.farEndReleased(now: now, into: &actions) }
        lab.run(ms: 5000) { $0.fxoSaw { if case .disconnected = $0 { true } else { false } } != nil }
        let seen = try #require(lab.fxoSaw { if case .disconnected = $0 { true } else { false } })
        #expect(lab.fxoSaw { $0 == .disconnected(.busyTone) } == seen)
        // Three cycles of 700 ms counted from the first burst, plus the line and block delays.
        #expect(seen - releasedAt >= 2100 && seen - releasedAt <= 2200, "disconnected \(seen - releasedAt) ms after the busy tone began")
        #expect(lab.fxoDevice.parameters().hookState != .offHook)
    }

    @Test("congestion tone disconnects as congestion")
    func congestionDisconnect() throws {
        var fxoConfiguration = FXOConfiguration()
        fxoConfiguration.toneDisconnectCycles = 2
        let lab = try AnalogCallTests.connectedCall(port: 2, fxoConfiguration: fxoConfiguration,
                                                    fxoDetectors: [Self.busyDetector()], tones: Self.tones())
        let startedAt = lab.now
        lab.fxsRequest { port, now, actions in port.playTone(.congestion, now: now, into: &actions) }
        lab.run(ms: 5000) { $0.fxoSaw { if case .disconnected = $0 { true } else { false } } != nil }
        let seen = try #require(lab.fxoSaw { $0 == .disconnected(.congestionTone) })
        #expect(seen - startedAt >= 2800 && seen - startedAt <= 2900)
    }

    @Test("outbound with dial-tone detection and DTMF dialling; the FXS collects the digits with the DTMF receiver")
    func dialToneAndDTMF() throws {
        var fxoConfiguration = FXOConfiguration()
        fxoConfiguration.dialToneWait = .detect(timeoutMs: 3000)
        fxoConfiguration.dialMode = .dtmf
        var fxsConfiguration = FXSConfiguration()
        fxsConfiguration.interDigitTimeoutMs = 1500
        let lab = try AnalogLab(port: 3, fxsConfiguration: fxsConfiguration, fxoConfiguration: fxoConfiguration,
                                fxsDetectors: [DTMFReceiver()], fxoDetectors: [Self.busyDetector()], tones: Self.tones())
        let seizedAt = lab.now
        lab.fxoRequest { port, now, actions in port.dial("4008123456", now: now, into: &actions) }
        lab.run(ms: 8000) { $0.fxsSaw { if case .digitsCollected = $0 { true } else { false } } != nil }
        #expect(lab.fxsSaw { $0 == .digitsCollected("4008123456") } != nil)
        // Dialling started on dial tone, not at the 3 s timeout: the detector needs about a second.
        let dialled = try #require(lab.fxoSaw { $0 == .dialled })
        #expect(dialled - seizedAt < 3000 + 10 * 200)
        #expect(!lab.fxoIndications.contains { if case .disconnected = $0.indication { true } else { false } })
    }

    @Test("no dial tone: the FXO gives up after the configured wait")
    func noDialTone() throws {
        var fxoConfiguration = FXOConfiguration()
        fxoConfiguration.dialToneWait = .detect(timeoutMs: 2000)
        // The FXS plays no tones at all (no tone source).
        let lab = try AnalogLab(port: 4, fxoConfiguration: fxoConfiguration, fxoDetectors: [Self.busyDetector()])
        let seizedAt = lab.now
        lab.fxoRequest { port, now, actions in port.dial("1", now: now, into: &actions) }
        lab.run(ms: 2500)
        let seen = try #require(lab.fxoSaw { $0 == .disconnected(.noDialTone) })
        #expect(seen - seizedAt >= 2000 && seen - seizedAt <= 2002)
    }

    // MARK: - No false disconnect

    /// Music-like audio: melodies of short notes (many near 450 Hz) and rests of random length,
    /// over held chords, with harmonics: the rhythms a cadence detector could mistake.
    static func musicLike(seconds: Int, level: Float, seed: UInt64) -> [Float] {
        var random = TestRandom(seed: seed)
        let total = seconds * 8000
        var out = [Float](repeating: 0, count: total)
        let amplitude = SignalLevel.rms(dBm0: level) * Float(2).squareRoot() / 2
        var n = 0
        var phase = [Double](repeating: 0, count: 6)
        while n < total {
            // A note of 120–700 ms, then a rest of 0–500 ms; notes from A3 to A5 (220–880 Hz).
            let noteLength = Int((0.12 + 0.58 * random.uniform()) * 8000)
            let restLength = random.uniform() < 0.5 ? Int(0.5 * random.uniform() * 8000) : 0
            let semitone = Int(random.uniform() * 25) - 12
            let melody = 440 * pow(2, Double(semitone) / 12)
            let chordRoot = 110 * pow(2, Double(Int(random.uniform() * 12)) / 12)
            let frequencies = [melody, melody * 2, melody * 3, chordRoot, chordRoot * 1.26, chordRoot * 1.5]
            let weights: [Float] = [1, 0.4, 0.2, 0.5, 0.4, 0.4]
            for i in 0..<(noteLength + restLength) where n < total {
                var x: Float = 0
                let t = Double(i) / 8000
                let noteEnvelope = i < noteLength ? Float(min(1, t / 0.02) * exp(-t * 1.5)) : 0
                for k in 0..<frequencies.count {
                    phase[k] += 2 * Double.pi * frequencies[k] / 8000
                    // The chord keeps sounding through the melody's rests.
                    let envelope = k < 3 ? noteEnvelope : 0.6
                    x += weights[k] * envelope * Float(sin(phase[k]))
                }
                out[n] = amplitude * x
                n += 1
            }
        }
        return out
    }

    static func ringbackPlayed(seconds: Int, level: Int) -> [Float] {
        var definition = ToneZone.cn.definition(of: .ringback)!
        definition.segments[0].levelDBm0 = level
        let generator = ToneGenerator(definition)
        var out = [Int16](repeating: 0, count: seconds * 8000)
        _ = out.withUnsafeMutableBufferPointer { generator.fill($0) }
        return out.map(Float.init)
    }

    /// With the detector confirming after one cycle (as a dialler's call progress wants), the
    /// three-cycle rule is what keeps speech and music from hanging up the call.
    @Test("no false disconnect over 30 minutes of speech-like, music-like signals and ringback on a connected line",
          arguments: [2, 1])
    func noFalseDisconnect(detectorCycles: Int) throws {
        var fxoConfiguration = FXOConfiguration()
        fxoConfiguration.toneDisconnectCycles = 3
        let lab = try AnalogCallTests.connectedCall(port: 1, fxoConfiguration: fxoConfiguration,
                                                    fxoDetectors: [Self.busyDetector(confirmedCycles: detectorCycles)])
        #expect(lab.fxo.machine.stateName == "connected")
        // Ten minutes of each, in one-minute pieces at levels from −10 to −30 dBm0, through A-law
        // with line noise; fed to the FXO driver as the media loop would (the line itself adds
        // nothing to this test but time).
        var now = lab.now
        var noise = TestRandom(seed: 404)
        let noiseRMS = SignalLevel.rms(dBm0: -55)
        var block = [Int16](repeating: 0, count: 160)
        var minutes = 0
        func feed(_ piece: [Float]) {
            for start in stride(from: 0, to: piece.count - 159, by: 160) {
                for i in 0..<160 {
                    let x = piece[start + i] + noiseRMS * Float(noise.gaussian())
                    block[i] = G711.alawToLinear(G711.linearToAlaw(Int16(clamping: Int(x.rounded()))))
                }
                for sub in stride(from: 0, to: 160, by: 8) {
                    block.withUnsafeBufferPointer { lab.fxo.process(received: UnsafeBufferPointer(rebasing: $0[sub..<(sub + 8)]), now: now) }
                    now = now + 1
                    lab.fxo.poll(now: now)
                }
            }
        }
        for minute in 0..<30 {
            let level = -10 - Float(minute % 5) * 5
            let piece: [Float]
            switch minute % 3 {
            case 0: piece = SpeechLikeSignal.modulatedNoiseTalker(seconds: 60, activeLevel: level, seed: UInt64(minute))
            case 1: piece = Self.musicLike(seconds: 60, level: level, seed: UInt64(minute))
            default: piece = Self.ringbackPlayed(seconds: 60, level: Int(level))
            }
            feed(piece)
            while let item = lab.fxo.nextIndication() { lab.fxoIndications.append(item) }
            minutes += 1
            if lab.fxo.machine.stateName != "connected" { break }
        }
        #expect(minutes == 30)
        #expect(lab.fxo.machine.stateName == "connected")
        #expect(!lab.fxoIndications.contains { if case .disconnected = $0.indication { true } else { false } })
        // The same path does hear a real busy tone at the end of it all.
        var busy = ToneZone.cn.definition(of: .busy)!
        busy.segments[0].levelDBm0 = -25
        var tone = [Int16](repeating: 0, count: 4 * 8000)
        _ = tone.withUnsafeMutableBufferPointer { ToneGenerator(busy).fill($0) }
        feed(tone.map(Float.init))
        while let item = lab.fxo.nextIndication() { lab.fxoIndications.append(item) }
        #expect(lab.fxoIndications.last?.indication == .disconnected(.busyTone))
    }
}
