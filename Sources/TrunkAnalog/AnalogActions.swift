import TrunkHardware
import TrunkMedia

/// Timers the analog port machines start; the driver runs at most one of each per port.
public enum AnalogTimer: Int, Sendable, CaseIterable {
    /// FXO: ringing has stopped for longer than a cadence's off time (the caller gave up).
    case ringTimeout
    /// FXO: how long after the first ring FSK caller ID may still start.
    case callerIDWait
    /// FXO: dial-tone detection gives up, or the fixed dial-tone wait ends.
    case dialTone
    /// FXO: one break or make of a dial pulse, or the pause between digits.
    case pulse
    /// FXO: the busy or congestion tone has lasted the configured number of cycles.
    case toneDisconnect
    /// FXS: no first digit after dial tone.
    case firstDigit
    /// FXS: the number is complete when no digit follows for this long.
    case interDigit
    /// FXS: the pause after the first ring before FSK caller ID is sent.
    case callerIDDelay
}

/// Why an analog call ended, as the port saw it.
public enum AnalogDisconnectCause: String, Sendable, Codable {
    /// FXO: loop current dropped (kewl-start open switch from the exchange).
    case loopCurrentDrop = "loop_current_drop"
    /// FXO: the exchange reversed the line's polarity.
    case polarityReversal = "polarity_reversal"
    /// FXO: busy tone for the configured number of cycles.
    case busyTone = "busy_tone"
    /// FXO: congestion tone for the configured number of cycles.
    case congestionTone = "congestion_tone"
    /// FXO: ringing stopped before the call was answered.
    case ringingStopped = "ringing_stopped"
    /// FXO: no dial tone after seizing the line.
    case noDialTone = "no_dial_tone"
    /// FXS: the phone went on hook.
    case onHook = "on_hook"
    /// FXS: off hook with no digit dialled in time.
    case noDigits = "no_digits"
}

/// What a port tells the call model.
public enum AnalogIndication: Sendable, Equatable {
    /// FXO: a ringing call whose cadence is valid, with the caller ID if one arrived.
    case incomingCall(callerID: CallerID?, method: CallerIDMethod?)
    /// FXO: caller ID arrived but was refused (bad checksum, truncated): nothing is passed on.
    case callerIDRejected(CallerIDError, method: CallerIDMethod)
    /// FXO: ringing whose cadence does not match the configured one; the call is not offered.
    case ringCadenceRejected(onMs: Int, offMs: Int?)
    /// FXS: the phone went off hook.
    case seized
    /// FXS: the number the phone dialled, complete.
    case digitsCollected(String)
    /// FXO: the number has been sent to the exchange.
    case dialled
    /// The call is answered (FXO: by us, or by the far end's polarity reversal; FXS: by the phone).
    case answered
    /// FXS: the phone flashed its hook (hold, transfer).
    case flash
    /// FXO: our hook flash has finished.
    case flashComplete
    case disconnected(AnalogDisconnectCause)
    /// FXO, outbound: what call progress analysis heard after dialling.
    case callProgress(CallProgressEvent)
}

/// What a port machine asks its driver to do, in order.
public enum AnalogAction: Sendable, Equatable {
    case hook(HookOperation)
    case setPolarity(reversed: Bool)
    case setRingCadence([Int])
    case playTone(ProgressTone)
    case stopTone
    case sendCallerID(CallerID, CallerIDMethod, dtmfStart: DTMFCallerIDStart)
    /// Stop sending caller ID or DTMF digits.
    case stopSending
    case sendDTMF(String)
    case startTimer(AnalogTimer, deadline: AnalogInstant)
    case stopTimer(AnalogTimer)
    case indicate(AnalogIndication)
}

/// The inputs every analog port machine takes; requests from the call model are per kind.
public protocol AnalogPortMachine: Sendable {
    var kind: AnalogPortKind { get }
    mutating func channelEvent(_ event: ChannelEvent, now: AnalogInstant, into actions: inout [AnalogAction])
    mutating func timerExpired(_ timer: AnalogTimer, now: AnalogInstant, into actions: inout [AnalogAction])
    /// A detector recognised something in the received audio; `startedAt` is when it began.
    mutating func detected(_ detection: MediaDetection.Kind, startedAt: AnalogInstant, now: AnalogInstant, into actions: inout [AnalogAction])
    mutating func callerIDReceived(_ result: CallerIDResult, now: AnalogInstant, into actions: inout [AnalogAction])
    /// Caller ID or DTMF the driver was sending has been sent completely.
    mutating func sendingFinished(now: AnalogInstant, into actions: inout [AnalogAction])
    /// Whether the caller ID receiver should listen (the line is idle or ringing).
    var listensForCallerID: Bool { get }
    /// The state's name for status and errors ("idle" when the port is free for a call).
    var stateName: String { get }
}
