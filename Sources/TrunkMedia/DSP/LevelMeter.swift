/// Level of a stretch of signal: RMS and peak in dBm0 (the peak quoted as the level of a sine
/// with that peak, the way a level meter on a line reads). Accumulates block by block without
/// allocating; conversions through `SignalLevel`.
public struct LevelMeter: Sendable, Equatable {
    public private(set) var samples = 0
    private var sumOfSquares: Double = 0
    public private(set) var peak: Int32 = 0

    public init() {}

    public mutating func add(_ block: UnsafeBufferPointer<Int16>) {
        var sum: Double = 0
        var top = peak
        for sample in block {
            let x = Int32(sample)
            sum += Double(x * x)
            top = max(top, abs(x))
        }
        sumOfSquares += sum
        peak = top
        samples += block.count
    }

    public mutating func add(_ block: [Int16]) {
        block.withUnsafeBufferPointer { add($0) }
    }

    public mutating func reset() {
        self = LevelMeter()
    }

    /// Mean-square value in 16-bit units (0 for no samples).
    public var meanSquare: Float { samples == 0 ? 0 : Float(sumOfSquares / Double(samples)) }

    public var rmsDBm0: Float { SignalLevel.dBm0(power: meanSquare) }

    /// dBm0 of a sine whose peak equals the largest sample seen.
    public var peakDBm0: Float { SignalLevel.dBm0(power: Float(peak) * Float(peak) / 2) }
}
