import CMallocCounter
import Testing
import TrunkAnalog
import TrunkCore
import TrunkHardware
import TrunkMedia

/// The port machines driven directly, input by input, with a virtual clock.
@Suite("FXO and FXS port machines")
struct AnalogPortMachineTests {
    static func at(_ ms: Int64) -> AnalogInstant { AnalogInstant(milliseconds: ms) }

    static func connectedFXO(_ configuration: FXOConfiguration) -> FXOPort {
        var port = FXOPort(configuration: configuration)
        var actions: [AnalogAction] = []
        port.dial("1", now: at(0), into: &actions)
        port.timerExpired(.dialTone, now: at(3000), into: &actions)
        port.sendingFinished(now: at(3200), into: &actions)
        port.farEndAnswered(now: at(4000), into: &actions)
        return port
    }

    @Test("busy tone disconnects after the configured cycles counted from the tone's start", arguments: [1, 3, 5])
    func busyCycles(cycles: Int) {
        var configuration = FXOConfiguration()
        configuration.dialToneWait = .fixed(ms: 3000)
        configuration.toneDisconnectCycles = cycles
        var port = Self.connectedFXO(configuration)
        var actions: [AnalogAction] = []
        // The detector confirms the cadence 1.4 s after the tone began.
        port.detected(.toneStarted(.busy), startedAt: Self.at(10_000), now: Self.at(11_400), into: &actions)
        let deadline = Self.at(10_000 + Int64(cycles * 700))
        #expect(actions == [.startTimer(.toneDisconnect, deadline: max(deadline, Self.at(11_400)))])
        actions = []
        port.timerExpired(.toneDisconnect, now: max(deadline, Self.at(11_400)), into: &actions)
        #expect(actions.contains(.hook(.onHook)))
        #expect(actions.last == .indicate(.disconnected(.busyTone)))
        #expect(port.stateName == "idle")
    }

    @Test("busy tone that stops before its cycles are up does not disconnect")
    func busyToneEndsEarly() {
        var configuration = FXOConfiguration()
        configuration.dialToneWait = .fixed(ms: 3000)
        var port = Self.connectedFXO(configuration)
        var actions: [AnalogAction] = []
        port.detected(.toneStarted(.congestion), startedAt: Self.at(10_000), now: Self.at(11_400), into: &actions)
        #expect(actions == [.startTimer(.toneDisconnect, deadline: Self.at(10_000 + 3 * 1400))])
        actions = []
        port.detected(.toneEnded(.congestion), startedAt: Self.at(12_000), now: Self.at(12_000), into: &actions)
        #expect(actions == [.stopTimer(.toneDisconnect)])
        #expect(port.stateName == "connected")
        // Ringback or dial tone on a connected call is not a disconnect tone.
        actions = []
        port.detected(.toneStarted(.ringback), startedAt: Self.at(13_000), now: Self.at(15_000), into: &actions)
        #expect(actions.isEmpty)
    }

    @Test("dial-tone detection: dialling starts on dial tone, and no dial tone releases the line")
    func dialToneDetection() {
        var port = FXOPort()
        var actions: [AnalogAction] = []
        port.dial("123", now: Self.at(0), into: &actions)
        #expect(actions == [.hook(.offHook), .startTimer(.dialTone, deadline: Self.at(3000))])
        actions = []
        port.detected(.toneStarted(.dial), startedAt: Self.at(200), now: Self.at(400), into: &actions)
        #expect(actions == [.stopTimer(.dialTone), .sendDTMF("123")])

        var silent = FXOPort()
        actions = []
        silent.dial("123", now: Self.at(0), into: &actions)
        actions = []
        silent.timerExpired(.dialTone, now: Self.at(3000), into: &actions)
        #expect(actions.contains(.hook(.onHook)))
        #expect(actions.last == .indicate(.disconnected(.noDialTone)))
    }

    @Test("an answer request waits for FSK caller ID between the rings, then goes off hook")
    func answerWaitsForCallerID() {
        var port = FXOPort()
        var actions: [AnalogAction] = []
        port.channelEvent(ChannelEvent(.ringBegin), now: Self.at(0), into: &actions)
        port.channelEvent(ChannelEvent(.ringOffHook), now: Self.at(1049), into: &actions)
        port.answer(now: Self.at(1100), into: &actions)
        #expect(!actions.contains(.hook(.offHook)))
        actions = []
        let id = CallerID(number: "10086")
        port.callerIDReceived(CallerIDResult(outcome: .success(id), method: .fskV23, sampleTime: 0), now: Self.at(2000), into: &actions)
        #expect(actions.contains(.indicate(.incomingCall(callerID: id, method: .fskV23))))
        #expect(actions.contains(.hook(.offHook)))
        #expect(actions.last == .indicate(.answered))
    }

    @Test("a refused caller ID is indicated and the call is offered without a number")
    func refusedCallerID() {
        var port = FXOPort()
        var actions: [AnalogAction] = []
        port.channelEvent(ChannelEvent(.ringBegin), now: Self.at(0), into: &actions)
        port.channelEvent(ChannelEvent(.ringOffHook), now: Self.at(1049), into: &actions)
        actions = []
        let error = CallerIDError.checksum(messageType: 0x80, expected: 0x12, received: 0x34)
        port.callerIDReceived(CallerIDResult(outcome: .failure(error), method: .fskBell202, sampleTime: 0), now: Self.at(2000), into: &actions)
        #expect(actions.contains(.indicate(.callerIDRejected(error, method: .fskBell202))))
        #expect(actions.contains(.indicate(.incomingCall(callerID: nil, method: nil))))
    }

    @Test("ringing that stops after the offer is reported as the caller giving up")
    func ringingStops() {
        var port = FXOPort()
        var actions: [AnalogAction] = []
        port.channelEvent(ChannelEvent(.ringBegin), now: Self.at(0), into: &actions)
        port.channelEvent(ChannelEvent(.ringOffHook), now: Self.at(1049), into: &actions)
        port.timerExpired(.callerIDWait, now: Self.at(4549), into: &actions)
        #expect(actions.contains(.indicate(.incomingCall(callerID: nil, method: nil))))
        actions = []
        port.timerExpired(.ringTimeout, now: Self.at(5749), into: &actions)
        #expect(actions.contains(.indicate(.disconnected(.ringingStopped))))
        #expect(port.stateName == "idle")
    }

    @Test("a ring burst whose end never comes does not hold the port: it times out without an offer")
    func stuckRinger() {
        var port = FXOPort()
        var actions: [AnalogAction] = []
        port.channelEvent(ChannelEvent(.ringBegin), now: Self.at(0), into: &actions)
        // 1000 ms burst + 200 ms tolerance + 50 ms trailer + the 4000 + 200 + 500 ms pause allowance.
        #expect(actions == [.startTimer(.ringTimeout, deadline: Self.at(5950))])
        actions = []
        port.timerExpired(.ringTimeout, now: Self.at(5950), into: &actions)
        #expect(port.stateName == "idle")
        #expect(!actions.contains { if case .indicate = $0 { true } else { false } })
    }

    @Test("FXS: dial tone on off-hook, DTMF digits collected until the inter-digit timeout")
    func fxsDigitCollection() {
        var port = FXSPort()
        var actions: [AnalogAction] = []
        port.channelEvent(ChannelEvent(.ringOffHook), now: Self.at(0), into: &actions)
        #expect(actions == [.indicate(.seized), .playTone(.dial), .startTimer(.firstDigit, deadline: Self.at(10_000))])
        actions = []
        port.detected(.dtmf(digit: UInt8(ascii: "1"), durationMs: 80), startedAt: Self.at(900), now: Self.at(1000), into: &actions)
        #expect(actions == [.stopTone, .stopTimer(.firstDigit), .startTimer(.interDigit, deadline: Self.at(5000))])
        port.detected(.dtmf(digit: UInt8(ascii: "0"), durationMs: 80), startedAt: Self.at(1900), now: Self.at(2000), into: &actions)
        port.channelEvent(ChannelEvent(.pulseDigit, digit: UInt8(ascii: "7")), now: Self.at(3000), into: &actions)
        actions = []
        port.timerExpired(.interDigit, now: Self.at(7000), into: &actions)
        #expect(actions == [.indicate(.digitsCollected("107"))])
        #expect(port.stateName == "routing")
    }

    @Test("FXS: FSK caller ID goes out after the first ring, DTMF caller ID before it")
    func fxsCallerIDTiming() {
        let id = CallerID(number: "4001234567")
        var fsk = FXSPort()
        var actions: [AnalogAction] = []
        fsk.ring(callerID: id, now: Self.at(0), into: &actions)
        #expect(actions == [.setRingCadence([1000, 4000]), .hook(.ring)])
        actions = []
        fsk.channelEvent(ChannelEvent(.ringerOff), now: Self.at(1000), into: &actions)
        #expect(actions == [.startTimer(.callerIDDelay, deadline: Self.at(1500))])
        actions = []
        fsk.timerExpired(.callerIDDelay, now: Self.at(1500), into: &actions)
        #expect(actions == [.sendCallerID(id, .fskV23, dtmfStart: .a)])

        var configuration = FXSConfiguration()
        configuration.callerID = .dtmf(.d)
        var dtmf = FXSPort(configuration: configuration)
        actions = []
        dtmf.ring(callerID: id, cadence: [400, 200, 400, 2000], now: Self.at(0), into: &actions)
        #expect(actions == [.setRingCadence([400, 200, 400, 2000]), .sendCallerID(id, .dtmf, dtmfStart: .d)])
        actions = []
        dtmf.sendingFinished(now: Self.at(2000), into: &actions)
        #expect(actions == [.hook(.ring)])
    }
}

@Suite("Analog port kind against the hardware")
struct AnalogPortKindTests {
    static func parameters(channel: Int, signalling: ChannelSignalling) -> ChannelParameters {
        ChannelParameters(channel: channel, span: 4, chanPos: channel - 66, signalling: signalling, law: .alaw, linear: false,
                          blockSize: 160, hookState: .onHook, polarityReversed: false, alarms: [], isOpen: false)
    }

    @Test("an FXS port on FXO hardware is refused with a message naming the port, channel and what is needed")
    func fxsOnFXOHardware() throws {
        let error = #expect(throws: TrunkError.self) {
            try AnalogPortKind.fxs.validate(Self.parameters(channel: 67, signalling: .fxsKewlStart), port: "agent-1",
                                            location: "/etc/trunkline/trunkline.toml:12:1")
        }
        let message = try #require(error).message
        #expect(message.hasPrefix("/etc/trunkline/trunkline.toml:12:1: port agent-1: configured as FXS"))
        #expect(message.contains("channel 67 (span 4, port 1) offers FXO (fxsks)"))
        #expect(message.contains("needs FXS hardware (fxoks signalling)"))
    }

    @Test("matching kinds pass; a backend with only FXO modules refuses FXS ports and the reverse")
    func backendOffers() throws {
        try AnalogPortKind.fxo.validate(Self.parameters(channel: 67, signalling: .fxsKewlStart), port: "pstn-1")
        try AnalogPortKind.fxs.validate(Self.parameters(channel: 63, signalling: .fxoKewlStart), port: "agent-1")
        #expect(throws: TrunkError.self) {
            try AnalogPortKind.fxs.validate(offered: [.fxsKewlStart, .bearer], port: "agent-2", where: "backend dahdi")
        }
        #expect(throws: TrunkError.self) {
            try AnalogPortKind.fxo.validate(offered: [.fxoKewlStart], port: "pstn-2", where: "backend dahdi")
        }
        // The simulator's lab: FXS ports on span 3, FXO on span 4, as the kinds say.
        let simulator = try LineSimulator()
        for channel in 63...66 { try AnalogPortKind.fxs.validate(simulator.openChannel(channel).parameters(), port: "fxs\(channel)") }
        for channel in 67...70 { try AnalogPortKind.fxo.validate(simulator.openChannel(channel).parameters(), port: "fxo\(channel)") }
    }
}

@Suite("Analog port driver on the media loop's path")
struct AnalogPortDriverAllocationTests {
    @Test("an FXO port's audio path while it dials and analyses call progress allocates nothing per block")
    func noAllocationPerBlock() throws {
        var fxoConfiguration = FXOConfiguration()
        fxoConfiguration.dialToneWait = .fixed(ms: 0)
        let lab = try AnalogLab(port: 4, fxoConfiguration: fxoConfiguration,
                                fxoDetectors: [CallProgressToneDetector(zone: .cn), ModemToneDetector()],
                                callProgress: CallProgressAnalysisConfiguration())
        let speech = CallProgressTests.speech(seconds: 3, level: -20, seed: 2)
        var out = [Int16](repeating: 0, count: 8)
        // Twice the same call: the first pays for what Swift's runtime sets up on first use
        // (type metadata of each action and indication); the second is counted.
        for round in 0..<2 {
            // Dial: the FXO sends DTMF and then runs call progress analysis, which hears a voice.
            lab.fxoRequest { port, now, actions in port.hangUp(now: now, into: &actions) }
            lab.run(ms: 50)
            lab.fxoRequest { port, now, actions in port.dial("12345", now: now, into: &actions) }
            lab.run(ms: 50)
            var now = lab.now
            speech.withUnsafeBufferPointer { received in
                out.withUnsafeMutableBufferPointer { send in
                    if round == 1 { malloc_counter_start() }
                    for start in stride(from: 0, to: received.count - 7, by: 8) {
                        now = now + 1
                        lab.fxo.process(received: UnsafeBufferPointer(rebasing: received[start..<(start + 8)]), now: now)
                        _ = lab.fxo.transmit(into: send, now: now)
                    }
                    if round == 1 {
                        let allocations = malloc_counter_stop()
                        #expect(allocations == 0, "\(allocations) allocations in \(received.count / 8) blocks")
                    }
                }
            }
            while let item = lab.fxo.nextIndication() { lab.fxoIndications.append(item) }
        }
        #expect(lab.fxoIndications.filter { if case .callProgress(let event) = $0.indication { event.outcome == .voice } else { false } }.count == 2)
        // The DTMF went out during the counted blocks and call progress analysis took over.
        #expect(lab.fxo.machine.stateName == "awaiting_answer")
    }
}
