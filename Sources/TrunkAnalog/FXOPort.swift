import TrunkHardware
import TrunkMedia

/// An FXO port (a line from the exchange) as a pure state machine: ring detection with cadence
/// validation, caller ID before or between rings, answer, outbound seizure and dialling, and
/// disconnect supervision by loop current, polarity and busy/congestion tone.
public struct FXOPort: AnalogPortMachine {
    public let configuration: FXOConfiguration
    public var kind: AnalogPortKind { .fxo }

    /// One ringing call being validated and offered.
    private struct Ringing: Hashable, Sendable {
        var burstBegan: AnalogInstant
        var lastBurstEnded: AnalogInstant?
        /// Bursts seen, valid or not: picks the cadence element the next one must match.
        var bursts = 0
        /// Complete cadence cycles (a China ring is one burst; a distinctive ring may be two).
        var validRings = 0
        var callerID: CallerID?
        var callerIDMethod: CallerIDMethod?
        /// Caller ID has arrived, or its window has closed: the call can be offered.
        var callerIDSettled = false
        /// A caller ID message (good or refused) has arrived: the call can be answered.
        var callerIDArrived = false
        var offered = false
        var answerRequested = false
    }

    private enum State: Hashable, Sendable {
        /// On hook, line idle (caller ID receiver listening: DTMF comes before the first ring).
        case idle
        case ringing(Ringing)
        /// Ringing with a cadence we refused; ignored until it stops.
        case ignoringRing
        /// Off hook, waiting for dial tone before dialling `number`.
        case awaitingDialTone(number: String)
        /// Sending DTMF digits.
        case dialling
        /// Sending dial pulses: `pulsesLeft` of the digit at `index`; `breaking` while the loop is open.
        case pulseDialling(number: String, index: Int, pulsesLeft: Int, breaking: Bool)
        /// Dialled; waiting for the far end to answer (polarity, or the call model's verdict).
        case awaitingAnswer
        case connected
    }

    private var state: State = .idle
    /// DTMF caller ID that arrived before the first ring, and when.
    private var earlyCallerID: (id: CallerID, at: AnalogInstant)?
    /// The disconnect tone being timed, if any.
    private var disconnectTone: ProgressTone?

    public init(configuration: FXOConfiguration = FXOConfiguration()) {
        self.configuration = configuration
    }

    public var stateName: String {
        switch state {
        case .idle: "idle"
        case .ringing: "ringing"
        case .ignoringRing: "ignoring_ring"
        case .awaitingDialTone: "awaiting_dial_tone"
        case .dialling, .pulseDialling: "dialling"
        case .awaitingAnswer: "awaiting_answer"
        case .connected: "connected"
        }
    }

    public var listensForCallerID: Bool {
        switch state {
        case .idle, .ringing: true
        default: false
        }
    }

    public var isOffHook: Bool {
        switch state {
        case .idle, .ringing, .ignoringRing: false
        default: true
        }
    }

    /// Bursts per cadence cycle: the cadence alternates on and off times.
    private var burstsPerCycle: Int { max(1, configuration.ringCadence.count / 2) }
    private func onMs(burst: Int) -> Int {
        configuration.ringCadence.isEmpty ? 1000 : configuration.ringCadence[(burst % burstsPerCycle) * 2]
    }
    private func offMs(burst: Int) -> Int {
        let index = (burst % burstsPerCycle) * 2 + 1
        return index < configuration.ringCadence.count ? configuration.ringCadence[index] : 4000
    }
    /// Ringing has stopped once no burst began within the longest pause plus tolerance.
    private var ringGoneMs: Int {
        (0..<burstsPerCycle).map { offMs(burst: $0) }.max()! + configuration.ringToleranceMs + 500
    }

    /// A burst whose end is not reported by then is not a ring (a stuck ringer, a line fault).
    private func burstGoneMs(burst: Int) -> Int {
        onMs(burst: burst) + configuration.ringToleranceMs + configuration.ringTrailerMs + ringGoneMs
    }

    // MARK: - Channel events

    public mutating func channelEvent(_ event: ChannelEvent, now: AnalogInstant, into actions: inout [AnalogAction]) {
        switch (event.kind, state) {
        case (.ringBegin, .idle):
            var ringing = Ringing(burstBegan: now)
            if let early = earlyCallerID, now - early.at < 10_000 {
                ringing.callerID = early.id
                ringing.callerIDMethod = .dtmf
                ringing.callerIDSettled = true
                ringing.callerIDArrived = true
            }
            earlyCallerID = nil
            state = .ringing(ringing)
            actions.append(.startTimer(.ringTimeout, deadline: now + burstGoneMs(burst: 0)))
        case (.ringBegin, .ringing(var ringing)):
            if let ended = ringing.lastBurstEnded {
                let off = Int(now - ended) + configuration.ringTrailerMs
                if abs(off - offMs(burst: ringing.bursts - 1)) > configuration.ringToleranceMs {
                    reject(onMs: nil, offMs: off, ringing: ringing, now: now, &actions)
                    return
                }
            }
            ringing.burstBegan = now
            state = .ringing(ringing)
            actions.append(.startTimer(.ringTimeout, deadline: now + burstGoneMs(burst: ringing.bursts)))
        case (.ringBegin, .ignoringRing):
            actions.append(.startTimer(.ringTimeout, deadline: now + ringGoneMs))
        case (.ringOffHook, .ringing(var ringing)):
            // The end of a ring burst, DAHDI reports it after the ring trailer.
            let on = Int(now - ringing.burstBegan) - configuration.ringTrailerMs
            guard abs(on - onMs(burst: ringing.bursts)) <= configuration.ringToleranceMs else {
                reject(onMs: on, offMs: nil, ringing: ringing, now: now, &actions)
                return
            }
            ringing.bursts += 1
            ringing.lastBurstEnded = now
            // A ring counts when its cycle's last burst has ended; only then is the cadence known.
            guard ringing.bursts % burstsPerCycle == 0 else {
                actions.append(.startTimer(.ringTimeout, deadline: now + ringGoneMs))
                state = .ringing(ringing)
                return
            }
            ringing.validRings += 1
            if ringing.validRings == 1 && !ringing.callerIDSettled {
                actions.append(.startTimer(.callerIDWait, deadline: now + configuration.callerIDWaitMs))
            }
            actions.append(.startTimer(.ringTimeout, deadline: now + ringGoneMs))
            progress(&ringing, now: now, &actions)
        case (.onHook, .awaitingDialTone), (.onHook, .dialling), (.onHook, .pulseDialling),
             (.onHook, .awaitingAnswer), (.onHook, .connected):
            // Loop current gone under our off-hook port: the exchange released (kewl start).
            disconnect(.loopCurrentDrop, now: now, &actions)
        case (.polarity, .awaitingAnswer) where configuration.answerOnPolarityReversal:
            state = .connected
            actions.append(.indicate(.answered))
        case (.polarity, .connected) where configuration.disconnectOnPolarityReversal:
            disconnect(.polarityReversal, now: now, &actions)
        case (.hookComplete, .connected), (.hookComplete, .awaitingAnswer):
            actions.append(.indicate(.flashComplete))
        default:
            break
        }
    }

    // MARK: - Detections, caller ID, timers

    public mutating func detected(_ detection: MediaDetection.Kind, startedAt: AnalogInstant, now: AnalogInstant, into actions: inout [AnalogAction]) {
        switch (detection, state) {
        case (.toneStarted(.dial), .awaitingDialTone(let number)):
            if case .detect = configuration.dialToneWait {
                actions.append(.stopTimer(.dialTone))
                startDialling(number, now: now, &actions)
            }
        case (.toneStarted(let tone), .awaitingAnswer), (.toneStarted(let tone), .connected):
            guard configuration.toneDisconnectCycles > 0, tone == .busy || tone == .congestion else { return }
            let period = tone == .busy ? configuration.busyPeriodMs : configuration.congestionPeriodMs
            let deadline = max(now, startedAt + configuration.toneDisconnectCycles * period)
            disconnectTone = tone
            actions.append(.startTimer(.toneDisconnect, deadline: deadline))
        case (.toneEnded(let tone), .awaitingAnswer), (.toneEnded(let tone), .connected):
            if tone == disconnectTone {
                disconnectTone = nil
                actions.append(.stopTimer(.toneDisconnect))
            }
        default:
            break
        }
    }

    public mutating func callerIDReceived(_ result: CallerIDResult, now: AnalogInstant, into actions: inout [AnalogAction]) {
        switch state {
        case .idle:
            if let id = result.callerID { earlyCallerID = (id, now) }
            if case .failure(let error) = result.outcome { actions.append(.indicate(.callerIDRejected(error, method: result.method))) }
        case .ringing(var ringing):
            switch result.outcome {
            case .success(let id):
                ringing.callerID = id
                ringing.callerIDMethod = result.method
            case .failure(let error):
                actions.append(.indicate(.callerIDRejected(error, method: result.method)))
            }
            ringing.callerIDSettled = true
            ringing.callerIDArrived = true
            actions.append(.stopTimer(.callerIDWait))
            progress(&ringing, now: now, &actions)
        default:
            break
        }
    }

    public mutating func timerExpired(_ timer: AnalogTimer, now: AnalogInstant, into actions: inout [AnalogAction]) {
        switch (timer, state) {
        case (.callerIDWait, .ringing(var ringing)):
            ringing.callerIDSettled = true
            progress(&ringing, now: now, &actions)
        case (.ringTimeout, .ringing(let ringing)):
            state = .idle
            actions.append(.stopTimer(.callerIDWait))
            if ringing.offered { actions.append(.indicate(.disconnected(.ringingStopped))) }
        case (.ringTimeout, .ignoringRing):
            state = .idle
        case (.dialTone, .awaitingDialTone(let number)):
            switch configuration.dialToneWait {
            case .fixed: startDialling(number, now: now, &actions)
            case .detect: disconnect(.noDialTone, now: now, &actions)
            }
        case (.pulse, .pulseDialling(let number, let index, let pulsesLeft, let breaking)):
            nextPulse(number: number, index: index, pulsesLeft: pulsesLeft, breaking: breaking, now: now, &actions)
        case (.toneDisconnect, .awaitingAnswer), (.toneDisconnect, .connected):
            disconnect(disconnectTone == .congestion ? .congestionTone : .busyTone, now: now, &actions)
        default:
            break
        }
    }

    public mutating func sendingFinished(now: AnalogInstant, into actions: inout [AnalogAction]) {
        if case .dialling = state {
            state = .awaitingAnswer
            actions.append(.indicate(.dialled))
        }
    }

    // MARK: - Requests from the call model

    /// Answer the ringing call: at once if caller ID is in, otherwise as soon as it is or the
    /// configured number of rings has passed, so the FSK between the rings is not cut off.
    public mutating func answer(now: AnalogInstant, into actions: inout [AnalogAction]) {
        guard case .ringing(var ringing) = state else { return }
        ringing.answerRequested = true
        progress(&ringing, now: now, &actions)
    }

    /// Seize the line and dial `number` once dial tone is there.
    public mutating func dial(_ number: String, now: AnalogInstant, into actions: inout [AnalogAction]) {
        guard case .idle = state else { return }
        state = .awaitingDialTone(number: number)
        actions.append(.hook(.offHook))
        switch configuration.dialToneWait {
        case .detect(let timeout): actions.append(.startTimer(.dialTone, deadline: now + timeout))
        case .fixed(let wait): actions.append(.startTimer(.dialTone, deadline: now + wait))
        }
    }

    /// The call model decided the far end answered (call progress heard a voice, or a line
    /// without answer supervision).
    public mutating func farEndAnswered(now: AnalogInstant, into actions: inout [AnalogAction]) {
        guard case .awaitingAnswer = state else { return }
        state = .connected
        actions.append(.indicate(.answered))
    }

    /// Flash the hook (exchange features: transfer, three-way calling).
    public mutating func flash(now: AnalogInstant, into actions: inout [AnalogAction]) {
        switch state {
        case .connected, .awaitingAnswer: actions.append(.hook(.flash))
        default: break
        }
    }

    /// Release the line from our side.
    public mutating func hangUp(now: AnalogInstant, into actions: inout [AnalogAction]) {
        let wasOffHook = isOffHook
        stopAllTimers(&actions)
        if case .dialling = state { actions.append(.stopSending) }
        state = .idle
        disconnectTone = nil
        if wasOffHook { actions.append(.hook(.onHook)) }
    }

    // MARK: - Helpers

    private mutating func progress(_ ringing: inout Ringing, now: AnalogInstant, _ actions: inout [AnalogAction]) {
        // Offer once a ring's cadence has been seen and caller ID has settled (or a second
        // valid ring shows it is not coming), so the call model gets the number with the offer.
        if !ringing.offered && ringing.validRings >= 1 && (ringing.callerIDSettled || ringing.validRings >= 2) {
            ringing.offered = true
            actions.append(.indicate(.incomingCall(callerID: ringing.callerID, method: ringing.callerIDMethod)))
            if configuration.autoAnswer { ringing.answerRequested = true }
        }
        if ringing.answerRequested && ringing.validRings >= 1
            && (ringing.callerIDArrived || ringing.validRings >= configuration.answerAfterRings) {
            state = .connected
            actions.append(.stopTimer(.ringTimeout))
            actions.append(.stopTimer(.callerIDWait))
            actions.append(.hook(.offHook))
            actions.append(.indicate(.answered))
            return
        }
        state = .ringing(ringing)
    }

    private mutating func reject(onMs: Int?, offMs: Int?, ringing: Ringing, now: AnalogInstant, _ actions: inout [AnalogAction]) {
        state = .ignoringRing
        actions.append(.stopTimer(.callerIDWait))
        actions.append(.indicate(.ringCadenceRejected(onMs: onMs ?? -1, offMs: offMs)))
        if ringing.offered { actions.append(.indicate(.disconnected(.ringingStopped))) }
        actions.append(.startTimer(.ringTimeout, deadline: now + ringGoneMs))
    }

    private mutating func startDialling(_ number: String, now: AnalogInstant, _ actions: inout [AnalogAction]) {
        switch configuration.dialMode {
        case .dtmf:
            state = .dialling
            actions.append(.sendDTMF(number))
        case .pulse:
            nextPulse(number: number, index: -1, pulsesLeft: 0, breaking: false, now: now, &actions)
        }
    }

    private mutating func nextPulse(number: String, index: Int, pulsesLeft: Int, breaking: Bool, now: AnalogInstant, _ actions: inout [AnalogAction]) {
        if breaking {
            // Make after the break.
            actions.append(.hook(.offHook))
            let last = pulsesLeft == 0
            state = .pulseDialling(number: number, index: index, pulsesLeft: pulsesLeft, breaking: false)
            actions.append(.startTimer(.pulse, deadline: now + (last ? configuration.pulseInterDigitMs : configuration.pulseMakeMs)))
            return
        }
        var index = index
        var pulses = pulsesLeft
        if pulses == 0 {
            // Next digit: '0' is ten pulses; anything that is not a digit is skipped.
            let digits = Array(number.utf8)
            repeat {
                index += 1
            } while index < digits.count && !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digits[index])
            guard index < digits.count else {
                state = .awaitingAnswer
                actions.append(.indicate(.dialled))
                return
            }
            let value = Int(digits[index] - UInt8(ascii: "0"))
            pulses = value == 0 ? 10 : value
        }
        actions.append(.hook(.onHook))
        state = .pulseDialling(number: number, index: index, pulsesLeft: pulses - 1, breaking: true)
        actions.append(.startTimer(.pulse, deadline: now + configuration.pulseBreakMs))
    }

    private mutating func disconnect(_ cause: AnalogDisconnectCause, now: AnalogInstant, _ actions: inout [AnalogAction]) {
        stopAllTimers(&actions)
        if case .dialling = state { actions.append(.stopSending) }
        state = .idle
        disconnectTone = nil
        actions.append(.hook(.onHook))
        actions.append(.indicate(.disconnected(cause)))
    }

    private func stopAllTimers(_ actions: inout [AnalogAction]) {
        for timer in [AnalogTimer.ringTimeout, .callerIDWait, .dialTone, .pulse, .toneDisconnect] {
            actions.append(.stopTimer(timer))
        }
    }
}
