/// The hardware clock's unit: one DAHDI tick is 1 ms, carrying 8 samples per channel at 8 kHz.
public enum Tick {
    public static let samplesPerTick = 8
    public static let sampleRate = 8000
    public static let ticksPerSecond = 1000

    /// Ticks in a duration given in milliseconds.
    @inlinable public static func ticks(ms: Int) -> Int { ms }
}

/// Monotonic time in nanoseconds since an arbitrary origin; durations and timer deadlines use
/// it so that changing the wall clock never disturbs calls or call records.
public struct MonotonicInstant: Comparable, Hashable, Sendable, Codable {
    public var nanoseconds: UInt64
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static func < (a: Self, b: Self) -> Bool { a.nanoseconds < b.nanoseconds }
    public func adding(milliseconds: Int) -> Self { Self(nanoseconds: nanoseconds &+ UInt64(milliseconds) * 1_000_000) }
    public func milliseconds(since earlier: Self) -> Double {
        Double(Int64(bitPattern: nanoseconds &- earlier.nanoseconds)) / 1_000_000
    }
}
