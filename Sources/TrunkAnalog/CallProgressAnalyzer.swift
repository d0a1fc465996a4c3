import TrunkMedia

/// What an outbound call ran into, as call progress analysis names it.
public enum CallProgressOutcome: String, Sendable, Codable {
    case ringback
    case busy
    case congestion
    /// A person (or a recording) answered: speech-like audio with no progress tone.
    case voice
    /// Special information tone (number unobtainable, changed, ...).
    case specialInformation = "sit"
    /// A fax machine: calling tone (CNG) or answer tone (CED).
    case fax
    /// A modem or fax answering with phase reversals (V.25 ANSam).
    case modem
    /// Nothing audible for the configured time after dialling.
    case silence

    /// Whether the outcome ends the analysis (ringback may be followed by an answer).
    public var isFinal: Bool { self != .ringback }
}

/// One classification, with when its evidence began and when it was decided.
public struct CallProgressEvent: Sendable, Hashable {
    public var outcome: CallProgressOutcome
    public var began: AnalogInstant
    public var decided: AnalogInstant

    public init(_ outcome: CallProgressOutcome, began: AnalogInstant, decided: AnalogInstant) {
        self.outcome = outcome
        self.began = began
        self.decided = decided
    }
}

public struct CallProgressAnalysisConfiguration: Sendable, Hashable {
    /// A 20 ms frame louder than this counts as activity.
    public var activityThresholdDBm0: Float = -42
    /// Activity must add up to this long (pauses between words allowed) to be taken as voice.
    public var voiceMinimumMs = 400
    /// A pause longer than this ends a stretch of activity (busy tone's 350 ms off does).
    public var voiceMaximumGapMs = 300
    /// Speech rises and falls by syllables; a tone's frames stay within a dB. Activity whose
    /// inner frames spread less than this is not voice.
    public var voiceMinimumSpreadDB: Float = 6
    /// No activity for this long after dialling is reported as silence.
    public var silenceTimeoutMs = 8000

    public init() {}
}

/// Classifies an outbound call's progress from the tone detectors' reports and the received
/// audio's energy, frame by frame. Pure: `now` in, events out.
public struct CallProgressAnalyzer: Sendable {
    public let configuration: CallProgressAnalysisConfiguration
    private var started: AnalogInstant?
    private var finished = false
    private var ringbackReported = false
    /// Progress tones the detectors say are on now (their cadence confirmed).
    private var activeTones = 0
    private var lastActivity: AnalogInstant?
    /// The current stretch of activity: its start, its active frames, the pause it is in, and
    /// the level range of its inner frames (those not next to a pause, which a tone's onset or
    /// end may cut short). The newest active frame waits in `pendingLevel` until the next frame
    /// shows whether it was the last before a pause.
    private var runStart: AnalogInstant?
    private var activeFrames = 0
    private var gapFrames = 0
    private var pendingLevel: Float?
    private var pendingIsEdge = false
    private var innerMinimum: Float = .infinity
    private var innerMaximum: Float = -.infinity

    public init(configuration: CallProgressAnalysisConfiguration = CallProgressAnalysisConfiguration()) {
        self.configuration = configuration
    }

    public var isRunning: Bool { started != nil && !finished }

    /// Dialling is complete: analysis begins.
    public mutating func start(now: AnalogInstant) {
        self = CallProgressAnalyzer(configuration: configuration)
        started = now
        lastActivity = now
    }

    public mutating func stop() { finished = true }

    /// A detector's report.
    public mutating func detected(_ detection: MediaDetection.Kind, startedAt: AnalogInstant, now: AnalogInstant) -> CallProgressEvent? {
        guard isRunning else { return nil }
        switch detection {
        case .toneStarted(let tone):
            activeTones += 1
            resetRun()
            let outcome: CallProgressOutcome
            switch tone {
            case .ringback:
                guard !ringbackReported else { return nil }
                ringbackReported = true
                return CallProgressEvent(.ringback, began: startedAt, decided: now)
            case .busy: outcome = .busy
            case .congestion: outcome = .congestion
            case .specialInformation: outcome = .specialInformation
            case .faxCalling, .answerTone: outcome = .fax
            case .answerToneWithReversals: outcome = .modem
            case .dial, .callWaiting, .recordTone: return nil
            }
            finished = true
            return CallProgressEvent(outcome, began: startedAt, decided: now)
        case .toneEnded:
            activeTones = max(0, activeTones - 1)
            resetRun()
            return nil
        case .dtmf:
            return nil
        }
    }

    /// The level of one 20 ms frame of received audio that ended at `now`.
    public mutating func frame(levelDBm0: Float, now: AnalogInstant) -> CallProgressEvent? {
        guard isRunning, let started else { return nil }
        guard levelDBm0 >= configuration.activityThresholdDBm0 else {
            if let last = lastActivity, now - last >= Int64(configuration.silenceTimeoutMs) {
                finished = true
                return CallProgressEvent(.silence, began: max(last, started), decided: now)
            }
            guard runStart != nil else { return nil }
            pendingLevel = nil
            gapFrames += 1
            if gapFrames * 20 > configuration.voiceMaximumGapMs { resetRun() }
            return nil
        }
        lastActivity = now
        guard activeTones == 0 else { return nil }
        if runStart == nil { runStart = now + -20 }
        if let pendingLevel, !pendingIsEdge {
            innerMinimum = min(innerMinimum, pendingLevel)
            innerMaximum = max(innerMaximum, pendingLevel)
        }
        pendingIsEdge = activeFrames == 0 || gapFrames > 0
        pendingLevel = levelDBm0
        gapFrames = 0
        activeFrames += 1
        if let runStart, activeFrames * 20 >= configuration.voiceMinimumMs,
           innerMaximum - innerMinimum >= configuration.voiceMinimumSpreadDB {
            finished = true
            return CallProgressEvent(.voice, began: runStart, decided: now)
        }
        return nil
    }

    private mutating func resetRun() {
        runStart = nil
        activeFrames = 0
        gapFrames = 0
        pendingLevel = nil
        pendingIsEdge = false
        innerMinimum = .infinity
        innerMaximum = -.infinity
    }
}

/// Sums received blocks into 20 ms frames and gives each frame's level.
public struct FrameEnergyMeter: Sendable {
    public static let frameSamples = 160
    private var sum: Float = 0
    private var count = 0

    public init() {}

    /// Adds a block; returns the level of each frame it completes through `frameDone`.
    public mutating func add(_ samples: UnsafeBufferPointer<Int16>, frameDone: (Float) -> Void) {
        for sample in samples {
            let x = Float(sample)
            sum += x * x
            count += 1
            if count == Self.frameSamples {
                frameDone(SignalLevel.dBm0(power: sum / Float(Self.frameSamples)))
                sum = 0
                count = 0
            }
        }
    }
}
