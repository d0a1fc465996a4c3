/// What a call asks of the media engine: the built-in flow and CTI operations go through this,
/// so the call model does not know how audio is moved.
public protocol CallMediaControl: AnyObject, Sendable {
    /// The call is up: its channel's audio is now the engine's (detectors, taps).
    func attach(callID: String, address: ChannelAddress, trunk: TrunkKind)
    /// The call ended: stop everything on it and give the channel back.
    func detach(callID: String)
    /// Plays to the caller; finishes with `CallMediaEvent.playbackFinished`.
    func play(_ audio: CallAudio, callID: String)
    func stopPlayback(callID: String)
    /// Records both sides for at most `maxMs`; `recordingStarted` names the recording,
    /// `recordingFinished` says it ended (limit reached or stopped).
    func record(callID: String, maxMs: Int)
    func stopRecording(callID: String)
}

/// What the media engine reports about a call.
public enum CallMediaEvent: Sendable, Equatable {
    case dtmf(callID: String, digit: Character, durationMs: Int)
    case firstMedia(callID: String)
    case playbackFinished(callID: String)
    case recordingStarted(callID: String, recordingID: String)
    case recordingFinished(callID: String)
}

/// Audio to play on a call.
public enum CallAudio: Sendable, Equatable, Codable {
    /// A WAV prompt (8 kHz; PCM16, A-law or µ-law).
    case file(path: String)
    /// Generated tones, one step after another.
    case tones([ToneStep])
    /// DTMF digits, as a caller's keypad would send them.
    case dtmf(String)

    public struct ToneStep: Sendable, Equatable, Codable {
        /// One or two frequencies in Hz (0 entries: silence).
        public var frequencies: [Int]
        public var levelDBm0: Double
        public var durationMs: Int

        public init(frequencies: [Int], levelDBm0: Double = -13, durationMs: Int) {
            self.frequencies = frequencies
            self.levelDBm0 = levelDBm0
            self.durationMs = durationMs
        }
    }

    /// The prompt the built-in flow plays when no WAV file is configured: a rising three-note
    /// chime, then a short pause before digits are collected.
    public static let defaultPrompt = CallAudio.tones([
        ToneStep(frequencies: [950], durationMs: 330), ToneStep(frequencies: [1400], durationMs: 330),
        ToneStep(frequencies: [1800], durationMs: 330), ToneStep(frequencies: [], durationMs: 200),
    ])

    /// The beep before recording starts: the tone plan's record tone (China: 950 Hz, 400 ms).
    public static let recordBeep = zoneTone(.recordTone, withSilences: false)!
}
