#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The strongest frequency in the most recent stretch of a signal, for line tests
/// (`trunkctl chan level`): a technician sends 1004 Hz from one end and reads at the other
/// which frequency arrived, as a transmission test set shows it.
///
/// Keeps the last `windowLength` samples; `estimate()` weights them with a Hann window,
/// finds the strongest DFT bin (Goertzel per bin, 3.9 Hz apart) and refines it by a parabola
/// through the log powers of that bin and its neighbours, which puts a steady tone within
/// about ±0.5 Hz. Not for the media loop: `estimate()` costs about 2 M multiply-adds.
public struct DominantFrequency: Sendable {
    public static let windowLength = 2048
    public static let sampleRate = 8000.0

    private var samples: [Float]
    private var next = 0
    public private(set) var count = 0

    public init() {
        samples = [Float](repeating: 0, count: Self.windowLength)
    }

    public mutating func add(_ block: UnsafeBufferPointer<Int16>) {
        for sample in block {
            samples[next] = Float(sample)
            next = (next + 1) % Self.windowLength
        }
        count += block.count
    }

    public mutating func add(_ block: [Int16]) {
        block.withUnsafeBufferPointer { add($0) }
    }

    /// The dominant frequency in Hz; nil until a whole window has been seen, or when the
    /// window holds no signal (digital silence, or a constant).
    public func estimate() -> Double? {
        let n = Self.windowLength
        guard count >= n else { return nil }
        // Oldest sample first, without its mean (an idle A-law line decodes to a constant, which
        // is no frequency at all), Hann-weighted.
        let mean = samples.reduce(0, +) / Float(n)
        var windowed = [Float](repeating: 0, count: n)
        var energy: Float = 0
        for i in 0..<n {
            let weight = 0.5 - 0.5 * cosf(2 * Float.pi * Float(i) / Float(n - 1))
            let x = (samples[(next + i) % n] - mean) * weight
            windowed[i] = x
            energy += x * x
        }
        guard energy > 0 else { return nil }
        var powers = [Double](repeating: 0, count: n / 2)
        var best = 1
        for bin in 1..<(n / 2) {
            let coefficient = 2 * cos(2 * Double.pi * Double(bin) / Double(n))
            var s1 = 0.0, s2 = 0.0
            for x in windowed {
                let s = Double(x) + coefficient * s1 - s2
                s2 = s1
                s1 = s
            }
            powers[bin] = s1 * s1 + s2 * s2 - coefficient * s1 * s2
            if powers[bin] > powers[best] { best = bin }
        }
        var offset = 0.0
        if best > 1 && best < n / 2 - 1 {
            let a = log(max(powers[best - 1], 1e-30)), b = log(max(powers[best], 1e-30)), c = log(max(powers[best + 1], 1e-30))
            let curvature = a - 2 * b + c
            if curvature < 0 { offset = 0.5 * (a - c) / curvature }
        }
        return (Double(best) + offset) * Self.sampleRate / Double(n)
    }
}
