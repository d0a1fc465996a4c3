/// How a `DTMFReceiver` decides. Defaults follow the Chinese and ITU norms (REFERENCE.md):
/// twist up to 8 dB normal (high group weaker) and 4 dB reverse, tones off by more than
/// 3.5 % rejected, by 1.5 % accepted.
public struct DTMFReceiverConfiguration: Sendable, Equatable {
    /// Largest accepted level difference low group − high group, in dB.
    public var normalTwist: Int
    /// Largest accepted level difference high group − low group, in dB.
    public var reverseTwist: Int
    /// Weakest tone accepted, in dBm0.
    public var thresholdDBm0: Int
    /// Notches dial tone (350, 425, 440 and 450 Hz) out before detecting, where digits are
    /// sent over dial tone.
    public var filterDialTone: Bool
    /// Largest relative frequency error of either tone, halfway between the norm's 1.5 %
    /// accept and 3.5 % reject; nil turns the frequency measurement off (the energy tests
    /// alone then take low-group tones up to about 4 % off).
    public var maximumFrequencyError: Float?

    public init(normalTwist: Int = 8, reverseTwist: Int = 4, thresholdDBm0: Int = -36,
                filterDialTone: Bool = false, maximumFrequencyError: Float? = 0.025) {
        self.normalTwist = normalTwist
        self.reverseTwist = reverseTwist
        self.thresholdDBm0 = thresholdDBm0
        self.filterDialTone = filterDialTone
        self.maximumFrequencyError = maximumFrequencyError
    }
}
