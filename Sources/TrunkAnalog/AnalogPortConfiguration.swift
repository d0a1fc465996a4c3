import TrunkMedia

/// How an FXO port (a line from the exchange) is supervised. Defaults follow China's exchanges.
public struct FXOConfiguration: Sendable, Hashable {
    /// Expected ring cadence, on and off in milliseconds (China: 1 s on, 4 s off); a
    /// distinctive cadence lists each burst and pause of its cycle.
    public var ringCadence: [Int] = [1000, 4000]
    /// How far a measured ring burst or pause may stray from the cadence and still count.
    public var ringToleranceMs = 200
    /// DAHDI reports the end of a ring this long after the voltage went (the ring trailer).
    public var ringTrailerMs = 50
    /// Answer once caller ID is in, or else after this many valid rings.
    public var answerAfterRings = 2
    /// Answer on our own (the lab's default flow), without waiting for the call model.
    public var autoAnswer = false
    /// How long after the end of the first ring the offer waits for FSK caller ID (exchanges
    /// send it within the first 2–3 s of the pause); the call is then offered without a number.
    public var callerIDWaitMs = 3500

    public enum DialToneWait: Sendable, Hashable {
        /// Wait for a detector to report dial tone, giving up after `timeoutMs`.
        case detect(timeoutMs: Int)
        /// Dial after a fixed pause (lines whose dial tone the detector cannot rely on).
        case fixed(ms: Int)
    }

    public var dialToneWait = DialToneWait.detect(timeoutMs: 3000)

    public enum DialMode: String, Sendable, Hashable { case dtmf, pulse }
    public var dialMode = DialMode.dtmf
    /// Pulse dialling: break and make lengths and the pause between digits (10 pulses/s, 60/40).
    public var pulseBreakMs = 60
    public var pulseMakeMs = 40
    public var pulseInterDigitMs = 700

    /// The exchange reverses polarity when the called party answers (outbound calls).
    public var answerOnPolarityReversal = false
    /// A polarity reversal on a connected call is the far end hanging up.
    public var disconnectOnPolarityReversal = false
    /// Disconnect on busy or congestion tone heard for this many cycles (0 turns it off).
    public var toneDisconnectCycles = 3
    /// Cadence periods (on + off) of the disconnect tones: China busy 350/350, congestion 700/700.
    public var busyPeriodMs = 700
    public var congestionPeriodMs = 1400

    public init() {}
}

/// How an FXS port (a line to a phone or a PBX trunk port) behaves.
public struct FXSConfiguration: Sendable, Hashable {
    /// Ring cadence sent to the phone; a call may ask for a distinctive one instead.
    public var ringCadence: [Int] = [1000, 4000]

    public enum CallerIDMode: Sendable, Hashable {
        case none
        /// FSK between the first and second ring, after `delayMs` of quiet.
        case fsk(CallerIDMethod, delayMs: Int)
        /// DTMF before the first ring.
        case dtmf(DTMFCallerIDStart)
    }

    public var callerID = CallerIDMode.fsk(.fskV23, delayMs: 500)
    /// Reverse the line's polarity when the call is answered (and restore it at the end).
    public var reversePolarityOnAnswer = false
    public var firstDigitTimeoutMs = 10_000
    public var interDigitTimeoutMs = 4000
    /// The number is complete at this many digits without waiting for the timeout.
    public var maxDigits = 20

    public enum ReleaseSignal: String, Sendable, Hashable {
        /// Open the loop's battery for the kewl-start interval (PBX trunk ports, answering machines).
        case kewlOpen = "kewl_open"
        /// Play busy tone until the phone goes on hook.
        case busyTone = "busy_tone"
    }

    public var releaseSignal = ReleaseSignal.busyTone

    public init() {}
}

