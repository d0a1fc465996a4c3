/// The seams between the media loop and what runs inside it. Implementations allocate when
/// they are created and never per block: the loop calls them on its real-time thread.

/// Produces audio on demand, one block at a time: a prompt, a tone sequence, DTMF, silence.
public protocol SampleSource: AnyObject {
    /// Writes up to `out.count` linear samples and returns how many it wrote; fewer than
    /// `out.count` means the source has finished (the rest of the block is the caller's).
    func fill(_ out: UnsafeMutableBufferPointer<Int16>) -> Int
}

/// Watches a channel's received audio and reports what it recognises (DTMF, call-progress
/// tones, fax and modem tones).
public protocol AudioDetector: AnyObject {
    /// Feeds one block; `sampleTime` is the channel's sample count at the block's first sample.
    func process(_ samples: UnsafeBufferPointer<Int16>, sampleTime: UInt64)
    /// The oldest detection not yet taken, from a fixed-size queue inside the detector.
    func nextDetection() -> MediaDetection?
    /// Forgets all state (a new call on the channel).
    func reset()
}

/// Tones the detectors name. Cadences follow the configured tone zone (China by default).
public enum ProgressTone: String, Sendable, Codable, CaseIterable {
    case dial
    case busy
    case ringback
    case congestion
    case callWaiting = "call_waiting"
    case recordTone = "record_tone"
    /// Special information tone (950/1400/1800 Hz).
    case specialInformation = "sit"
    /// Fax calling tone, 1100 Hz.
    case faxCalling = "fax_cng"
    /// Answer tone, 2100 Hz, without phase reversals (fax CED, V.25 ANS).
    case answerTone = "ced"
    /// Answer tone with phase reversals (V.25 ANS/ANSam): echo cancellers must stand aside.
    case answerToneWithReversals = "ans_pr"
}

/// One thing a detector recognised, stamped with the channel's sample clock.
public struct MediaDetection: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A DTMF digit ('0'–'9', '*', '#', 'A'–'D' as ASCII) once it has ended, with its length.
        case dtmf(digit: UInt8, durationMs: Int)
        /// A tone recognised (after its cadence has been confirmed, for cadenced tones).
        case toneStarted(ProgressTone)
        case toneEnded(ProgressTone)
    }

    public var kind: Kind
    /// Sample index (channel clock) at which the digit or tone began (for `toneEnded`: at
    /// which the tone's last burst ended).
    public var sampleTime: UInt64

    public init(_ kind: Kind, sampleTime: UInt64) {
        self.kind = kind
        self.sampleTime = sampleTime
    }
}
