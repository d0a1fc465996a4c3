import Testing
import TrunkAnalog
import TrunkCore
import TrunkHardware
import TrunkMedia

@Suite("Analog calls on the simulated FXS ⇄ FXO pairs")
struct AnalogCallTests {
    static let caller = CallerID(number: "13800138000", name: "LI NA", dateTime: CallerIDDateTime(month: 11, day: 30, hour: 9, minute: 41))

    @Test("an inbound call with FSK caller ID is offered with the number, the method recognised, and answered",
          arguments: [CallerIDMethod.fskV23, .fskBell202])
    func inboundFSK(method: CallerIDMethod) throws {
        var fxsConfiguration = FXSConfiguration()
        fxsConfiguration.callerID = .fsk(method, delayMs: 500)
        let lab = try AnalogLab(fxsConfiguration: fxsConfiguration)
        lab.fxsRequest { port, now, actions in port.ring(callerID: Self.caller, now: now, into: &actions) }
        lab.run(ms: 8000) { $0.fxoSaw { if case .incomingCall = $0 { true } else { false } } != nil }
        let offer = try #require(lab.fxoIndications.first { if case .incomingCall = $0.indication { true } else { false } })
        #expect(offer.indication == .incomingCall(callerID: Self.caller, method: method))
        // FSK comes between the first and second ring: the offer precedes the second ring (at 5 s).
        #expect(offer.at.milliseconds < 5000)

        lab.fxoRequest { port, now, actions in port.answer(now: now, into: &actions) }
        lab.run(ms: 50)
        #expect(lab.fxoSaw { $0 == .answered } != nil)
        #expect(lab.fxsSaw { $0 == .answered } != nil)
        #expect(lab.fxo.machine.stateName == "connected" && lab.fxs.machine.stateName == "connected")
    }

    @Test("an inbound call with DTMF caller ID before the first ring is offered with the number after one ring")
    func inboundDTMF() throws {
        var fxsConfiguration = FXSConfiguration()
        fxsConfiguration.callerID = .dtmf(.a)
        let lab = try AnalogLab(port: 2, fxsConfiguration: fxsConfiguration)
        lab.fxsRequest { port, now, actions in port.ring(callerID: Self.caller, now: now, into: &actions) }
        lab.run(ms: 8000) { $0.fxoSaw { if case .incomingCall = $0 { true } else { false } } != nil }
        let offer = try #require(lab.fxoIndications.first { if case .incomingCall = $0.indication { true } else { false } })
        #expect(offer.indication == .incomingCall(callerID: CallerID(number: Self.caller.number), method: .dtmf))
        // Caller ID settled before ringing: the call is offered as soon as one valid ring ends.
        #expect(offer.at.milliseconds < 3500)
    }

    @Test("caller ID at −30 dBm0 with 20 dB SNR and an echo path on the line is still delivered",
          arguments: [CallerIDMethod.fskV23, .fskBell202, .dtmf])
    func weakCallerID(method: CallerIDMethod) throws {
        var fxsConfiguration = FXSConfiguration()
        fxsConfiguration.callerID = method == .dtmf ? .dtmf(.a) : .fsk(method, delayMs: 500)
        // The DTMF level is per tone group: −32 and −34 dBm0 put the pair at −30 dBm0.
        let lab = try AnalogLab(port: 3, fxsConfiguration: fxsConfiguration, callerIDLevelDBm0: -30, dtmfLevelDBm0: -32)
        var impairments = Impairments()
        impairments.echoModel = 3
        impairments.echoReturnLossDB = 12
        impairments.echoDelayMs = 4
        try lab.simulator.setImpairments(impairments, span: 4)
        try lab.simulator.setImpairments(impairments, span: 3)
        // Line noise 20 dB under the caller ID, and our own side's idle noise for the echo path.
        lab.fxoNoiseRMS = SignalLevel.rms(dBm0: -50)
        lab.fxoTalk = Level.noise(dBm0: -40, samples: 8 * 8000)
        lab.fxsRequest { port, now, actions in port.ring(callerID: Self.caller, now: now, into: &actions) }
        lab.recording = true
        lab.run(ms: 8000) { $0.fxoSaw { if case .incomingCall = $0 { true } else { false } } != nil }
        let offer = try #require(lab.fxoIndications.first { if case .incomingCall = $0.indication { true } else { false } })
        let expected = method == .dtmf ? CallerID(number: Self.caller.number) : Self.caller
        #expect(offer.indication == .incomingCall(callerID: expected, method: method))
        #expect(!lab.fxoIndications.contains { if case .callerIDRejected = $0.indication { true } else { false } })
        // The caller ID really was that weak at the FXO: the loudest 50 ms is about −30 dBm0.
        let loudest = stride(from: 0, to: lab.heardAtFXO.count - 400, by: 400).map { Level.dBm0(lab.heardAtFXO[$0..<($0 + 400)]) }.max() ?? 0
        #expect(loudest > -31.5 && loudest < -28, "loudest 50 ms at the FXO: \(loudest) dBm0")
    }

    @Test("a ring cadence that is not China's 1 s / 4 s is refused and never offered")
    func wrongCadence() throws {
        let lab = try AnalogLab(port: 4)
        lab.fxsRequest { port, now, actions in port.ring(callerID: nil, cadence: [400, 200, 400, 2000], now: now, into: &actions) }
        lab.run(ms: 12_000)
        #expect(lab.fxoSaw { if case .ringCadenceRejected = $0 { true } else { false } } != nil)
        #expect(lab.fxoSaw { if case .incomingCall = $0 { true } else { false } } == nil)
        // A burst 40 % short is refused as well.
        let short = try AnalogLab(port: 4)
        short.fxsRequest { port, now, actions in port.ring(callerID: nil, cadence: [600, 4400], now: now, into: &actions) }
        short.run(ms: 12_000)
        #expect(short.fxoSaw { $0 == .ringCadenceRejected(onMs: 599, offMs: nil) } != nil)
        #expect(short.fxoSaw { if case .incomingCall = $0 { true } else { false } } == nil)
    }

    @Test("without caller ID the call is offered when the caller ID window closes and answered after the configured rings")
    func noCallerIDAnswersAfterRings() throws {
        var fxoConfiguration = FXOConfiguration()
        fxoConfiguration.autoAnswer = true
        fxoConfiguration.answerAfterRings = 2
        var fxsConfiguration = FXSConfiguration()
        fxsConfiguration.callerID = .none
        let lab = try AnalogLab(fxsConfiguration: fxsConfiguration, fxoConfiguration: fxoConfiguration)
        lab.fxsRequest { port, now, actions in port.ring(callerID: Self.caller, now: now, into: &actions) }
        lab.run(ms: 8000)
        let offered = try #require(lab.fxoSaw { $0 == .incomingCall(callerID: nil, method: nil) })
        let answered = try #require(lab.fxoSaw { $0 == .answered })
        // Offered when the caller ID window closes (first ring's end at 1049 ms + 3500 ms);
        // answered when the second ring ends (RINGBEGIN at 5000 ms, reported over at 6049 ms).
        #expect(offered.milliseconds >= 4540 && offered.milliseconds <= 4560)
        #expect(answered.milliseconds >= 6040 && answered.milliseconds <= 6060)
        #expect(lab.fxsSaw { $0 == .answered } != nil)
    }

    /// Sets up an answered inbound call (DTMF caller ID, so it is quick).
    static func connectedCall(port: Int, fxsConfiguration: FXSConfiguration = FXSConfiguration(),
                              fxoConfiguration: FXOConfiguration = FXOConfiguration(),
                              fxoDetectors: [any AudioDetector] = [],
                              tones: ToneZone? = nil) throws -> AnalogLab {
        var fxsConfiguration = fxsConfiguration
        fxsConfiguration.callerID = .dtmf(.a)
        var fxoConfiguration = fxoConfiguration
        fxoConfiguration.autoAnswer = true
        let lab = try AnalogLab(port: port, fxsConfiguration: fxsConfiguration, fxoConfiguration: fxoConfiguration,
                                fxoDetectors: fxoDetectors, tones: tones)
        lab.fxsRequest { port, now, actions in port.ring(callerID: caller, now: now, into: &actions) }
        lab.run(ms: 6000) { $0.fxsSaw { $0 == .answered } != nil }
        lab.run(ms: 100)
        return lab
    }

    @Test("talk audio passes both ways once answered")
    func talkBothWays() throws {
        let lab = try Self.connectedCall(port: 1)
        #expect(lab.fxo.machine.stateName == "connected")
        lab.heardAtFXO = []
        lab.heardAtFXS = []
        lab.recording = true
        lab.fxsTalk = Level.tone(1000, dBm0: -10, samples: 8000)
        lab.fxoTalk = Level.tone(700, dBm0: -10, samples: 8000)
        lab.run(ms: 1000)
        let atFXO = lab.heardAtFXO[800..<7200]
        let atFXS = lab.heardAtFXS[800..<7200]
        #expect(abs(Level.dBm0(atFXO) + 10) < 1)
        #expect(abs(Level.dBm0(atFXS) + 10) < 1)
        #expect(Level.share(of: 1000, in: atFXO) > -1)
        #expect(Level.share(of: 700, in: atFXS) > -1)
    }

    @Test("the exchange's open-switch release (loop current drop) is detected within 10 ms")
    func disconnectByLoopDrop() throws {
        var fxsConfiguration = FXSConfiguration()
        fxsConfiguration.releaseSignal = .kewlOpen
        let lab = try Self.connectedCall(port: 2, fxsConfiguration: fxsConfiguration)
        let releasedAt = lab.now
        lab.fxsRequest { port, now, actions in port.farEndReleased(now: now, into: &actions) }
        lab.run(ms: 100)
        let seen = try #require(lab.fxoSaw { $0 == .disconnected(.loopCurrentDrop) })
        #expect(seen - releasedAt <= 10)
        #expect(lab.fxo.machine.stateName == "idle")
        #expect(lab.fxoDevice.parameters().hookState != .offHook)
        // The FXS sees our FXO hang up after the flash window.
        lab.run(ms: 1400)
        #expect(lab.fxsSaw { $0 == .disconnected(.onHook) } != nil)
    }

    @Test("outbound: seize, fixed dial-tone wait, pulse dialling, answer and release by polarity reversal")
    func outboundPulseAndPolarity() throws {
        var fxoConfiguration = FXOConfiguration()
        fxoConfiguration.dialToneWait = .fixed(ms: 300)
        fxoConfiguration.dialMode = .pulse
        fxoConfiguration.answerOnPolarityReversal = true
        fxoConfiguration.disconnectOnPolarityReversal = true
        var fxsConfiguration = FXSConfiguration()
        fxsConfiguration.reversePolarityOnAnswer = true
        fxsConfiguration.interDigitTimeoutMs = 2000
        let lab = try AnalogLab(port: 3, fxsConfiguration: fxsConfiguration, fxoConfiguration: fxoConfiguration)
        lab.fxoRequest { port, now, actions in port.dial("8105", now: now, into: &actions) }
        lab.run(ms: 10_000) { $0.fxsSaw { if case .digitsCollected = $0 { true } else { false } } != nil }
        #expect(lab.fxsSaw { $0 == .seized } != nil)
        #expect(lab.fxsSaw { $0 == .digitsCollected("8105") } != nil)
        #expect(lab.fxoSaw { $0 == .dialled } != nil)
        #expect(!lab.fxsIndications.contains { if case .disconnected = $0.indication { true } else { false } })

        lab.fxsRequest { port, now, actions in port.farEndAnswered(now: now, into: &actions) }
        lab.run(ms: 20)
        #expect(lab.fxoSaw { $0 == .answered } != nil)

        let releasedAt = lab.now
        lab.fxsRequest { port, now, actions in port.farEndReleased(now: now, into: &actions) }
        lab.run(ms: 50)
        let seen = try #require(lab.fxoSaw { $0 == .disconnected(.polarityReversal) })
        #expect(seen - releasedAt <= 10)
    }

    @Test("outbound: call progress hears the called party's voice through the line")
    func outboundVoiceAnswer() throws {
        var fxoConfiguration = FXOConfiguration()
        fxoConfiguration.dialToneWait = .fixed(ms: 200)
        fxoConfiguration.dialMode = .pulse
        var fxsConfiguration = FXSConfiguration()
        fxsConfiguration.interDigitTimeoutMs = 1000
        let lab = try AnalogLab(port: 2, fxsConfiguration: fxsConfiguration, fxoConfiguration: fxoConfiguration,
                                callProgress: CallProgressAnalysisConfiguration())
        lab.fxoRequest { port, now, actions in port.dial("12", now: now, into: &actions) }
        lab.run(ms: 10_000) { $0.fxsSaw { if case .digitsCollected = $0 { true } else { false } } != nil }
        #expect(lab.fxsSaw { $0 == .digitsCollected("12") } != nil)
        lab.fxsRequest { port, now, actions in port.farEndAnswered(now: now, into: &actions) }
        let speaksAt = lab.now
        lab.fxsTalk = CallProgressTests.speech(seconds: 3, level: -20, seed: 17)
        lab.run(ms: 3000)
        let progress = lab.fxoIndications.compactMap { if case .callProgress(let event) = $0.indication { event } else { nil } }
        #expect(progress.map(\.outcome) == [.voice])
        if let voice = progress.first {
            #expect(voice.began - speaksAt < 100)
            #expect(voice.decided - speaksAt < 1500)
        }
    }

    @Test("the FXO's hook flash reaches the FXS as a flash, not a hang-up")
    func hookFlash() throws {
        let lab = try Self.connectedCall(port: 4)
        lab.fxoRequest { port, now, actions in port.flash(now: now, into: &actions) }
        lab.run(ms: 1000)
        #expect(lab.fxsSaw { $0 == .flash } != nil)
        #expect(lab.fxoSaw { $0 == .flashComplete } != nil)
        #expect(lab.fxsSaw { if case .disconnected = $0 { true } else { false } } == nil)
        #expect(lab.fxs.machine.stateName == "connected")
    }

    @Test("a distinctive cadence is offered by an FXO that expects it and refused by one that expects China's")
    func distinctiveRing() throws {
        var fxsConfiguration = FXSConfiguration()
        fxsConfiguration.callerID = .none
        var fxoConfiguration = FXOConfiguration()
        fxoConfiguration.ringCadence = [400, 200, 400, 2000]
        fxoConfiguration.callerIDWaitMs = 1500
        let lab = try AnalogLab(port: 1, fxsConfiguration: fxsConfiguration, fxoConfiguration: fxoConfiguration)
        lab.fxsRequest { port, now, actions in port.ring(callerID: nil, cadence: [400, 200, 400, 2000], now: now, into: &actions) }
        lab.run(ms: 6000)
        #expect(lab.fxoSaw { if case .ringCadenceRejected = $0 { true } else { false } } == nil)
        // Offered when the caller ID window after the first full cycle (bursts end at 1049 ms) closes.
        let offered = try #require(lab.fxoSaw { $0 == .incomingCall(callerID: nil, method: nil) })
        #expect(offered.milliseconds >= 2540 && offered.milliseconds <= 2560)

        let china = try AnalogLab(port: 2, fxsConfiguration: fxsConfiguration)
        china.fxsRequest { port, now, actions in port.ring(callerID: nil, cadence: [400, 200, 400, 2000], now: now, into: &actions) }
        china.run(ms: 6000)
        #expect(china.fxoSaw { $0 == .ringCadenceRejected(onMs: 399, offMs: nil) } != nil)
        #expect(china.fxoSaw { if case .incomingCall = $0 { true } else { false } } == nil)
    }
}
