/// Per-channel options of an ``EchoCanceller``.
public struct EchoCancellerConfiguration: Sendable, Equatable {
    /// Echo tail covered, in taps (samples at 8 kHz): 256 = 32 ms ... 1024 = 128 ms.
    /// Must be a multiple of 64 between 64 and 2048.
    public var tailTaps: Int
    /// Non-linear processor on (production) or off (G.168 linear measurements).
    public var nonLinearProcessing: Bool
    /// When the NLP removes residual echo, fill with comfort noise instead of silence.
    public var comfortNoise: Bool
    /// Honour the 2100 Hz phase-reversal disabling tone.
    public var toneDisabling: Bool

    public init(tailTaps: Int = 1024, nonLinearProcessing: Bool = true, comfortNoise: Bool = true, toneDisabling: Bool = true) {
        self.tailTaps = tailTaps
        self.nonLinearProcessing = nonLinearProcessing
        self.comfortNoise = comfortNoise
        self.toneDisabling = toneDisabling
    }

    /// Tail length in milliseconds at 8 kHz.
    public var tailMilliseconds: Int { tailTaps / 8 }
}

/// Snapshot of one canceller's state for supervision (`dahdi show status`
/// style output, CTI, metrics).
public struct EchoCancellerStats: Sendable, Equatable {
    /// Echo return loss enhancement of the active filter, in dB, smoothed over
    /// about 100 ms of far-end speech without double talk.
    public var erleDecibels: Float
    /// The active filter removes at least ``EchoCanceller/convergedERLE`` dB.
    public var converged: Bool
    /// Double talk (near-end speech over echo) is currently declared.
    public var doubleTalk: Bool
    /// The non-linear processor is currently replacing the output.
    public var nlpActive: Bool
    /// A 2100 Hz tone with phase reversals disabled the canceller; cleared by
    /// ``EchoCanceller/reset()``.
    public var disabledByTone: Bool
    /// Samples processed since the last reset.
    public var samplesProcessed: Int
}
