import TrunkMedia

/// ERLE measured in short windows:
/// ERLE = 10·log10(P(echo: Sin without near talker) / P(residual: Sout)).
///
/// Only windows where the echo is well above the −65 dBm0 background noise
/// count ("active"); in pauses of the far-end signal ERLE is undefined.
public struct ERLEMeasurement: Sendable {
    public static let windowLength = 400   // 50 ms
    /// Echo power a window needs to count as active.
    public static let activeEchoLevel: Float = -45

    /// Start time (s) and ERLE (dB) of every active window.
    public let windows: [(start: Double, erle: Float)]

    public init(echo: [Int16], residual: [Int16]) {
        let threshold = SignalLevel.power(dBm0: Self.activeEchoLevel)
        var result: [(Double, Float)] = []
        var start = 0
        while start + Self.windowLength <= echo.count {
            var pe: Double = 0
            var pr: Double = 0
            for n in start..<start + Self.windowLength {
                pe += Double(echo[n]) * Double(echo[n])
                pr += Double(residual[n]) * Double(residual[n])
            }
            pe /= Double(Self.windowLength)
            pr /= Double(Self.windowLength)
            if Float(pe) >= threshold {
                result.append((Double(start) / 8000, SignalLevel.decibels(ratio: Float(pe / max(pr, 1e-3)))))
            }
            start += Self.windowLength
        }
        windows = result
    }

    /// Mean of the windows' ERLE (dB) over [from, to) seconds.
    public func meanERLE(from: Double, to: Double) -> Float {
        let selected = windows.filter { $0.start >= from && $0.start + Double(Self.windowLength) / 8000 <= to }
        guard !selected.isEmpty else { return -.infinity }
        return selected.reduce(0) { $0 + $1.erle } / Float(selected.count)
    }

    /// Time (s, end of window) from which ERLE stays at or above `level` for
    /// three consecutive active windows; nil if never.
    public func timeToReach(_ level: Float) -> Double? {
        guard windows.count >= 3 else { return nil }
        for i in 0...(windows.count - 3) where windows[i].erle >= level && windows[i + 1].erle >= level && windows[i + 2].erle >= level {
            return windows[i].start + Double(Self.windowLength) / 8000
        }
        return nil
    }
}
