#if canImport(Glibc)
import Glibc
#endif

/// A linear gain in Q12 fixed point, computed from decibels off the loop so that applying it
/// is one multiply and shift per sample.
public struct MediaGain: Sendable, Equatable {
    public static let unity = MediaGain(q12: 4096)
    /// The gain × 4096.
    public let q12: Int32

    public init(q12: Int32) { self.q12 = q12 }

    /// −60 … +24 dB; values outside are clamped (below −60 dB is as good as muted).
    public init(decibels: Double) {
        let clamped = Swift.min(Swift.max(decibels, -60), 24)
        q12 = Int32((pow(10, clamped / 20) * 4096).rounded())
    }

    public var isUnity: Bool { q12 == 4096 }

    @inline(__always)
    func apply(_ sample: Int32) -> Int32 { (sample &* q12 &+ 2048) >> 12 }
}

@inline(__always)
func clampToInt16(_ value: Int32) -> Int16 {
    Int16(truncatingIfNeeded: Swift.min(Swift.max(value, -32768), 32767))
}
