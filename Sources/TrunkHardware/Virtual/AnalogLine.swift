import TrunkCore

/// What crosses a simulated two-wire loop in one tick. The FXS end feeds battery and rings;
/// the FXO end closes the loop (goes off hook). Audio is linear, as on the copper.
struct AnalogLineSignal {
    var battery = true
    var ringing = false
    var polarityReversed = false
    var loopClosed = false
    var samples = SIMD8<Int16>(repeating: 0)
}

/// Timing constants of analog supervision, DAHDI's defaults (drivers/dahdi kernel.h).
public struct AnalogTiming: Sendable, Hashable, Codable {
    /// Longest on-hook interval taken as a hook flash rather than a hang-up.
    public var rxFlashMs = 1250
    /// On-hook interval the FXO end produces for a FLASH hook operation.
    public var flashMs = 750
    /// Open-switch interval an FXS port produces when hanging up (kewl start disconnect).
    public var kewlMs = 500
    /// Dial-pulse break lengths accepted as pulses.
    public var minPulseMs = 15
    public var maxPulseMs = 200
    /// Closed-loop time that ends a pulsed digit.
    public var pulseTimeoutMs = 250
    /// A ring is over once ringing voltage has been gone this long.
    public var ringTrailerMs = 50
    /// After hanging up an FXO port, ringing this soon is taken as the old call's tail.
    public var ringDebounceMs = 2000

    public init() {}
}

/// China's ring cadence (1 s on, 4 s off), the embedded default's tone zone.
public let chinaRingCadence = [1000, 4000]

/// The line-side behaviour of an FXS port (FXO kewl-start signalling): ringing with a cadence,
/// battery and polarity, loop detection with flash and pulse-dial timing as DAHDI does it.
struct FXSPortState {
    var timing: AnalogTiming
    var cadence = chinaRingCadence
    private(set) var ringing = false
    private(set) var ringerOn = false
    private var cadenceIndex = 0
    private var cadenceRemaining = 0
    private var kewlRemaining = 0
    var polarityReversed = false
    private(set) var loopClosed = false
    private var onHookTimer = 0
    private var onHookElapsed = 0
    private var pulseCount = 0
    private var pulseTimer = 0

    init(timing: AnalogTiming) { self.timing = timing }

    var hookState: HookState { loopClosed ? .offHook : (ringing ? .ringing : .onHook) }

    /// Starts ringing; the ringer comes on with the next tick.
    mutating func startRinging() throws(TrunkError) {
        guard !loopClosed else { throw TrunkError(.busy, "the line is off hook; it cannot be rung") }
        ringing = true
        ringerOn = false
        cadenceIndex = -1
        cadenceRemaining = 0
    }

    mutating func stopRinging(events: inout [ChannelEvent]) {
        if ringing && ringerOn { events.append(ChannelEvent(.ringerOff)) }
        ringing = false
        ringerOn = false
    }

    /// Hanging up from the line side: an open-switch interval the far end sees as disconnect.
    mutating func disconnect(events: inout [ChannelEvent]) {
        stopRinging(events: &events)
        if loopClosed { kewlRemaining = timing.kewlMs }
    }

    /// Advances the ring cadence and the open-switch interval, then drives the line for this tick.
    mutating func transmit(_ signal: inout AnalogLineSignal, events: inout [ChannelEvent]) {
        if ringing && !cadence.isEmpty {
            if cadenceRemaining == 0 {
                cadenceIndex = (cadenceIndex + 1) % cadence.count
                cadenceRemaining = cadence[cadenceIndex]
                ringerOn = cadenceIndex % 2 == 0
                events.append(ChannelEvent(ringerOn ? .ringerOn : .ringerOff))
            }
            cadenceRemaining -= 1
        }
        if kewlRemaining > 0 { kewlRemaining -= 1 }
        signal.battery = kewlRemaining == 0
        signal.ringing = ringing && ringerOn
        signal.polarityReversed = polarityReversed
    }

    mutating func receive(_ signal: AnalogLineSignal, events: inout [ChannelEvent]) {
        if signal.loopClosed != loopClosed {
            loopClosed = signal.loopClosed
            if loopClosed {
                loopWentOffHook(events: &events)
            } else {
                onHookTimer = timing.rxFlashMs
                onHookElapsed = 0
            }
        }
        if !loopClosed && onHookTimer > 0 {
            onHookElapsed += 1
            onHookTimer -= 1
            if onHookTimer == 0 {
                pulseCount = 0
                pulseTimer = 0
                events.append(ChannelEvent(.onHook))
            }
        }
        if loopClosed && pulseTimer > 0 {
            pulseTimer -= 1
            if pulseTimer == 0 && pulseCount > 0 {
                let digit = pulseCount >= 10 ? UInt8(ascii: "0") : UInt8(ascii: "0") + UInt8(pulseCount)
                events.append(ChannelEvent(.pulseDigit, digit: digit))
                pulseCount = 0
            }
        }
    }

    private mutating func loopWentOffHook(events: inout [ChannelEvent]) {
        if ringing {
            ringing = false
            ringerOn = false
        }
        if onHookTimer > 0 {
            // Back off hook before the flash window closed: a dial pulse or a hook flash.
            let brokeFor = onHookElapsed
            onHookTimer = 0
            if brokeFor <= timing.maxPulseMs {
                if brokeFor >= timing.minPulseMs {
                    pulseCount += 1
                    pulseTimer = timing.pulseTimeoutMs
                    if pulseCount == 1 { events.append(ChannelEvent(.pulseStart)) }
                }
            } else {
                events.append(ChannelEvent(.winkFlash))
            }
            return
        }
        events.append(ChannelEvent(.ringOffHook))
    }
}

/// The subscriber-side behaviour of an FXO port (FXS kewl-start signalling): ring detection
/// (RINGBEGIN at the start of a burst, RINGOFFHOOK once it is over), battery-drop disconnect,
/// polarity reversal, and its own hook with timed flash.
struct FXOPortState {
    var timing: AnalogTiming
    private(set) var offHook = false
    private var flashRemaining = 0
    private var lineRinging = false
    private var ringTrailer = 0
    private var ringDebounce = 0
    private var battery = true
    private(set) var polarityReversed = false

    init(timing: AnalogTiming) { self.timing = timing }

    var hookState: HookState { offHook ? .offHook : (lineRinging ? .ringing : .onHook) }

    mutating func setHook(offHook newValue: Bool) {
        if offHook && !newValue { ringDebounce = timing.ringDebounceMs }
        offHook = newValue
        flashRemaining = 0
    }

    mutating func flash() throws(TrunkError) {
        guard offHook else { throw TrunkError(.invalidArgument, "a hook flash needs the port off hook") }
        flashRemaining = timing.flashMs
    }

    func transmit(_ signal: inout AnalogLineSignal) {
        signal.loopClosed = offHook && flashRemaining == 0
    }

    mutating func receive(_ signal: AnalogLineSignal, events: inout [ChannelEvent]) {
        if flashRemaining > 0 {
            flashRemaining -= 1
            if flashRemaining == 0 { events.append(ChannelEvent(.hookComplete)) }
        }
        if ringDebounce > 0 { ringDebounce -= 1 }
        if signal.ringing {
            if !lineRinging && ringDebounce == 0 { events.append(ChannelEvent(.ringBegin)) }
            lineRinging = true
            ringTrailer = timing.ringTrailerMs
        } else if lineRinging {
            ringTrailer -= 1
            if ringTrailer <= 0 {
                lineRinging = false
                if ringDebounce == 0 { events.append(ChannelEvent(.ringOffHook)) }
            }
        }
        if signal.polarityReversed != polarityReversed {
            polarityReversed = signal.polarityReversed
            events.append(ChannelEvent(.polarity))
        }
        if signal.battery != battery {
            battery = signal.battery
            // Loop current dropping under an off-hook port is the exchange hanging up.
            if !battery && offHook { events.append(ChannelEvent(.onHook)) }
        }
    }
}
