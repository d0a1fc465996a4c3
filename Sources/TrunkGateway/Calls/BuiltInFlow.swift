import TrunkISDN

/// The call flow that takes inbound calls no CTI client has claimed: answer, play a prompt,
/// collect digits, record the caller, play the digits back, hang up with cause 16. What a
/// newcomer sees working with no upper layer, and what load tests drive.
///
/// A pure state machine: inputs come from the call manager (answered, media finished, a
/// digit, a timer), actions go back to it.
public struct BuiltInFlow: Sendable {
    public struct Configuration: Sendable, Equatable {
        public var prompt: CallAudio = .defaultPrompt
        public var maxDigits = 4
        /// Ends collection early (and is not kept).
        public var terminator: Character? = "#"
        public var firstDigitTimeoutMs = 5_000
        public var interDigitTimeoutMs = 3_000
        /// 0 skips the recording step.
        public var recordMs = 5_000
        /// Play the collected digits back as DTMF.
        public var playBackDigits = true

        public init() {}
    }

    public enum Action: Sendable, Equatable {
        case answer
        case play(CallAudio)
        case record(maxMs: Int)
        case stopRecording
        case startTimer(ms: Int)
        case stopTimer
        case collected(String)
        case hangup(Q850Cause)
    }

    public enum Step: String, Sendable {
        case answering
        case prompting
        case collecting
        case beeping
        case recording
        case playingBack
        case hangingUp
        case done
    }

    public let configuration: Configuration
    public private(set) var step: Step = .answering
    public private(set) var digits = ""

    public init(configuration: Configuration) { self.configuration = configuration }

    /// The call was routed to the flow (its number is complete).
    public mutating func start() -> [Action] {
        step = .answering
        return [.answer]
    }

    public mutating func answered() -> [Action] {
        guard step == .answering else { return [] }
        step = .prompting
        return [.play(configuration.prompt)]
    }

    public mutating func playbackFinished() -> [Action] {
        switch step {
        case .prompting:
            step = .collecting
            return [.startTimer(ms: configuration.firstDigitTimeoutMs)]
        case .beeping:
            step = .recording
            return [.record(maxMs: configuration.recordMs), .startTimer(ms: configuration.recordMs + 2_000)]
        case .playingBack:
            return hangUp()
        default:
            return []
        }
    }

    public mutating func digit(_ digit: Character) -> [Action] {
        guard step == .collecting || step == .prompting else { return [] }
        // A digit during the prompt starts collection at once (barge-in), as IVR callers expect.
        step = .collecting
        if digit == configuration.terminator { return collectionDone() }
        digits.append(digit)
        if digits.count >= configuration.maxDigits { return collectionDone() }
        return [.startTimer(ms: configuration.interDigitTimeoutMs)]
    }

    public mutating func recordingFinished() -> [Action] {
        guard step == .recording else { return [] }
        return playBack()
    }

    public mutating func timerExpired() -> [Action] {
        switch step {
        case .collecting: return collectionDone()
        // The media engine should have ended the recording at its limit; do not wait for ever.
        case .recording: return [.stopRecording] + playBack()
        default: return []
        }
    }

    public mutating func farEndCleared() -> [Action] {
        let wasRecording = step == .recording
        step = .done
        return wasRecording ? [.stopTimer, .stopRecording] : [.stopTimer]
    }

    private mutating func collectionDone() -> [Action] {
        var actions: [Action] = [.stopTimer, .collected(digits)]
        if configuration.recordMs > 0 {
            step = .beeping
            actions.append(.play(CallAudio.recordBeep))
        } else {
            actions += playBack()
        }
        return actions
    }

    private mutating func playBack() -> [Action] {
        guard configuration.playBackDigits, !digits.isEmpty else { return [.stopTimer] + hangUp() }
        step = .playingBack
        return [.stopTimer, .play(.dtmf(digits))]
    }

    private mutating func hangUp() -> [Action] {
        step = .hangingUp
        return [.hangup(.normalCallClearing)]
    }
}
