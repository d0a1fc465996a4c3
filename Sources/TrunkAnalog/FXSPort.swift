import TrunkHardware
import TrunkMedia

/// An FXS port (a line to a phone or a PBX trunk port) as a pure state machine: off-hook and
/// dial tone, digit collection (DTMF and pulse), ringing with cadence and caller ID, call
/// progress tones, hook flash and polarity reversal on answer.
public struct FXSPort: AnalogPortMachine {
    public let configuration: FXSConfiguration
    public var kind: AnalogPortKind { .fxs }

    private enum State: Hashable, Sendable {
        case idle
        /// Off hook with dial tone, no digit yet.
        case dialTone
        case collecting(digits: String)
        /// Number handed to the call model; tones (ringback, busy) as it asks.
        case routing
        /// Sending DTMF caller ID before the first ring.
        case callerIDBeforeRing(cadence: [Int])
        /// Ringing; `pendingFSK` is the caller ID still to send after the first ring.
        case ringing(pendingFSK: CallerID?)
        case connected
        /// The far end released; waiting for the phone to hang up.
        case awaitingOnHook
    }

    private var state: State = .idle
    private var polarityReversed = false

    public init(configuration: FXSConfiguration = FXSConfiguration()) {
        self.configuration = configuration
    }

    public var listensForCallerID: Bool { false }

    public var stateName: String {
        switch state {
        case .idle: "idle"
        case .dialTone: "dial_tone"
        case .collecting: "collecting"
        case .routing: "routing"
        case .callerIDBeforeRing: "caller_id"
        case .ringing: "ringing"
        case .connected: "connected"
        case .awaitingOnHook: "awaiting_on_hook"
        }
    }

    // MARK: - Channel events

    public mutating func channelEvent(_ event: ChannelEvent, now: AnalogInstant, into actions: inout [AnalogAction]) {
        switch (event.kind, state) {
        case (.ringOffHook, .idle):
            state = .dialTone
            actions.append(.indicate(.seized))
            actions.append(.playTone(.dial))
            actions.append(.startTimer(.firstDigit, deadline: now + configuration.firstDigitTimeoutMs))
        case (.ringOffHook, .ringing), (.ringOffHook, .callerIDBeforeRing):
            // The phone answered (DAHDI has already stopped the ringer).
            actions.append(.stopSending)
            actions.append(.stopTimer(.callerIDDelay))
            state = .connected
            if configuration.reversePolarityOnAnswer {
                polarityReversed = true
                actions.append(.setPolarity(reversed: true))
            }
            actions.append(.indicate(.answered))
        case (.ringerOff, .ringing(.some)):
            // FSK caller ID goes in the first silent interval, after a pause the phone needs.
            if case .fsk(_, let delay) = configuration.callerID {
                actions.append(.startTimer(.callerIDDelay, deadline: now + delay))
            }
        case (.pulseDigit, _):
            if let digit = event.digit { collect(digit, now: now, &actions) }
        case (.winkFlash, .connected), (.winkFlash, .routing):
            actions.append(.indicate(.flash))
        case (.onHook, .idle), (.onHook, .ringing), (.onHook, .callerIDBeforeRing):
            break
        case (.onHook, _):
            // The phone hung up (reported after the flash window).
            release(&actions)
            actions.append(.indicate(.disconnected(.onHook)))
        default:
            break
        }
    }

    public mutating func detected(_ detection: MediaDetection.Kind, startedAt: AnalogInstant, now: AnalogInstant, into actions: inout [AnalogAction]) {
        if case .dtmf(let digit, _) = detection { collect(digit, now: now, &actions) }
    }

    public mutating func callerIDReceived(_ result: CallerIDResult, now: AnalogInstant, into actions: inout [AnalogAction]) {}

    public mutating func timerExpired(_ timer: AnalogTimer, now: AnalogInstant, into actions: inout [AnalogAction]) {
        switch (timer, state) {
        case (.firstDigit, .dialTone):
            state = .awaitingOnHook
            actions.append(.playTone(.congestion))
            actions.append(.indicate(.disconnected(.noDigits)))
        case (.interDigit, .collecting(let digits)):
            complete(digits, &actions)
        case (.callerIDDelay, .ringing(let pending?)):
            if case .fsk(let method, _) = configuration.callerID {
                actions.append(.sendCallerID(pending, method, dtmfStart: .a))
            }
            state = .ringing(pendingFSK: nil)
        default:
            break
        }
    }

    public mutating func sendingFinished(now: AnalogInstant, into actions: inout [AnalogAction]) {
        if case .callerIDBeforeRing = state {
            state = .ringing(pendingFSK: nil)
            actions.append(.hook(.ring))
        }
    }

    // MARK: - Requests from the call model

    /// Ring the phone, with caller ID as the port is configured, and a distinctive cadence if given.
    public mutating func ring(callerID: CallerID?, cadence: [Int]? = nil, now: AnalogInstant, into actions: inout [AnalogAction]) {
        guard case .idle = state else { return }
        let cadence = cadence ?? configuration.ringCadence
        actions.append(.setRingCadence(cadence))
        switch (configuration.callerID, callerID) {
        case (.dtmf(let start), let id?):
            state = .callerIDBeforeRing(cadence: cadence)
            actions.append(.sendCallerID(id, .dtmf, dtmfStart: start))
        case (.fsk, let id?):
            state = .ringing(pendingFSK: id)
            actions.append(.hook(.ring))
        default:
            state = .ringing(pendingFSK: nil)
            actions.append(.hook(.ring))
        }
    }

    /// Stop ringing (the caller gave up).
    public mutating func stopRinging(now: AnalogInstant, into actions: inout [AnalogAction]) {
        switch state {
        case .ringing, .callerIDBeforeRing:
            state = .idle
            actions.append(.stopSending)
            actions.append(.stopTimer(.callerIDDelay))
            actions.append(.hook(.ringOff))
        default:
            break
        }
    }

    /// Play a call-progress tone to the phone (ringback, busy, congestion) while routing.
    public mutating func playTone(_ tone: ProgressTone, now: AnalogInstant, into actions: inout [AnalogAction]) {
        switch state {
        case .routing, .connected, .awaitingOnHook: actions.append(.playTone(tone))
        default: break
        }
    }

    /// The far end answered the call this phone made.
    public mutating func farEndAnswered(now: AnalogInstant, into actions: inout [AnalogAction]) {
        guard case .routing = state else { return }
        state = .connected
        actions.append(.stopTone)
        if configuration.reversePolarityOnAnswer {
            polarityReversed = true
            actions.append(.setPolarity(reversed: true))
        }
    }

    /// The far end released: signal it to the phone as configured.
    public mutating func farEndReleased(now: AnalogInstant, into actions: inout [AnalogAction]) {
        switch state {
        case .connected, .routing:
            if polarityReversed {
                polarityReversed = false
                actions.append(.setPolarity(reversed: false))
            }
            state = .awaitingOnHook
            switch configuration.releaseSignal {
            case .busyTone:
                actions.append(.playTone(.busy))
            case .kewlOpen:
                actions.append(.stopTone)
                actions.append(.hook(.onHook))
            }
        case .ringing, .callerIDBeforeRing:
            stopRinging(now: now, into: &actions)
        default:
            break
        }
    }

    // MARK: - Helpers

    private mutating func collect(_ digit: UInt8, now: AnalogInstant, _ actions: inout [AnalogAction]) {
        let character = String(Character(Unicode.Scalar(digit)))
        switch state {
        case .dialTone:
            actions.append(.stopTone)
            actions.append(.stopTimer(.firstDigit))
            state = .collecting(digits: "")
            collect(digit, now: now, &actions)
        case .collecting(let digits):
            let number = digits + character
            if digit == UInt8(ascii: "#") || number.count >= configuration.maxDigits {
                actions.append(.stopTimer(.interDigit))
                complete(digit == UInt8(ascii: "#") ? digits : number, &actions)
            } else {
                state = .collecting(digits: number)
                actions.append(.startTimer(.interDigit, deadline: now + configuration.interDigitTimeoutMs))
            }
        default:
            break
        }
    }

    private mutating func complete(_ digits: String, _ actions: inout [AnalogAction]) {
        state = .routing
        actions.append(.indicate(.digitsCollected(digits)))
    }

    private mutating func release(_ actions: inout [AnalogAction]) {
        state = .idle
        actions.append(.stopTone)
        actions.append(.stopSending)
        for timer in [AnalogTimer.firstDigit, .interDigit, .callerIDDelay] { actions.append(.stopTimer(timer)) }
        if polarityReversed {
            polarityReversed = false
            actions.append(.setPolarity(reversed: false))
        }
    }
}
