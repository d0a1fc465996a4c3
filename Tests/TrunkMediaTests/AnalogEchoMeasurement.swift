import TrunkCore
@testable import TrunkMedia

/// Level and delay measurements on what a call's ends sent and heard (linear 8 kHz samples).
enum AnalogEchoMeasurement {
    /// Mean power of `samples[range]` (clipped to the array).
    static func power(_ samples: [Int16], _ range: Range<Int>) -> Double {
        let lower = max(range.lowerBound, 0)
        let upper = min(range.upperBound, samples.count)
        guard upper > lower else { return 0 }
        var sum: Double = 0
        for index in lower..<upper { sum += Double(samples[index]) * Double(samples[index]) }
        return sum / Double(upper - lower)
    }

    static func dBm0(power: Double) -> Double {
        Double(SignalLevel.dBm0(power: Float(max(power, 1e-12))))
    }

    /// The lag (0…`maximumLag` samples) at which `heard` best matches `sent` (cross-correlation
    /// peak over `sent[range]`): the delay of the path from the sender to the listener, plus
    /// the position of the path's strongest tap.
    static func delay(of sent: [Int16], in heard: [Int16], over range: Range<Int>, maximumLag: Int) -> Int {
        var best = 0
        var bestValue = -Double.infinity
        sent.withUnsafeBufferPointer { s in
            heard.withUnsafeBufferPointer { h in
                for lag in 0...maximumLag where range.upperBound + lag <= h.count {
                    var sum: Float = 0
                    for index in range { sum += Float(s[index]) * Float(h[index + lag]) }
                    if abs(Double(sum)) > bestValue {
                        bestValue = abs(Double(sum))
                        best = lag
                    }
                }
            }
        }
        return best
    }

    /// Mean power over the windows of `heard[range]` (`window` samples each) in which `active`
    /// (the same instants, another run or a reference) holds; the windows' count with it.
    static func gatedPower(_ heard: [Int16], over range: Range<Int>, window: Int, active: (Range<Int>) -> Bool) -> (power: Double, windows: Int) {
        var sum: Double = 0
        var count = 0
        var start = range.lowerBound
        while start + window <= range.upperBound {
            let slice = start..<(start + window)
            if active(slice) {
                sum += power(heard, slice)
                count += 1
            }
            start += window
        }
        return (count > 0 ? sum / Double(count) : 0, count)
    }
}
