/// How late something happened after its tick was due, in 1 µs buckets up to 50 ms (beyond
/// that: one overflow bucket, and the maximum). Written by the loop thread only, without
/// allocating; read after the thread has stopped.
public final class LatenessHistogram: @unchecked Sendable {
    public static let bucketCount = 50_000
    private let buckets: UnsafeMutablePointer<UInt64>
    public private(set) var count: UInt64 = 0
    public private(set) var maximumNanoseconds: UInt64 = 0

    public init() {
        buckets = .allocate(capacity: Self.bucketCount + 1)
        buckets.initialize(repeating: 0, count: Self.bucketCount + 1)
    }

    deinit { buckets.deallocate() }

    @inline(__always)
    public func record(nanoseconds: UInt64) {
        buckets[Int(min(nanoseconds / 1000, UInt64(Self.bucketCount)))] += 1
        count += 1
        if nanoseconds > maximumNanoseconds { maximumNanoseconds = nanoseconds }
    }

    /// The lateness (µs, bucket upper bound) below which `fraction` of the records fall.
    public func percentileMicroseconds(_ fraction: Double) -> Double {
        guard count > 0 else { return 0 }
        let target = UInt64((fraction * Double(count)).rounded(.up))
        var seen: UInt64 = 0
        for bucket in 0...Self.bucketCount {
            seen += buckets[bucket]
            if seen >= target { return bucket == Self.bucketCount ? Double(maximumNanoseconds) / 1000 : Double(bucket + 1) }
        }
        return Double(maximumNanoseconds) / 1000
    }
}
