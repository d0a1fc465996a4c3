#if canImport(Glibc)
import Glibc
#endif

/// Line faults a technician or a test can put on a simulated span, each applied to what the
/// span receives. All are settable while the simulator runs.
public struct Impairments: Sendable, Hashable, Codable {
    /// The receive pair is cut: the span sees loss of signal (RED) and tells the far end (YELLOW).
    public var cut = false
    /// The far end sends all ones (AIS): the span reports BLUE.
    public var alarmIndicationSignal = false
    /// Bit error ratio on the received bit stream (0 = clean).
    public var bitErrorRate = 0.0
    /// Confine bit errors to the D-channel timeslot.
    public var bitErrorsOnDChannelOnly = false
    /// Extra one-way delay in milliseconds (elastic store depth).
    public var delayMs = 0
    /// A controlled slip every N milliseconds (0 = none).
    public var slipEveryMs = 0
    /// Echo on an analog port: G.168 model number (1…8 for D.2…D.9), 0 = none.
    public var echoModel = 0
    public var echoReturnLossDB = 6.0
    public var echoDelayMs = 0

    public init() {}

    public var isClean: Bool { self == Impairments() }
}

/// A deterministic pseudo-random source (SplitMix64) so that impaired runs can be repeated.
struct ImpairmentRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    mutating func unit() -> Double { Double((next() >> 11) + 1) / Double(1 << 53) }

    /// Bits until the next error at ratio `p`: geometric, so cost is per error, not per bit.
    mutating func gapUntilNextError(rate p: Double) -> Int {
        guard p > 0 else { return Int.max }
        if p >= 1 { return 0 }
        let gap = log(unit()) / log1p(-p)
        return gap > Double(Int.max / 2) ? Int.max / 2 : Int(gap)
    }
}

