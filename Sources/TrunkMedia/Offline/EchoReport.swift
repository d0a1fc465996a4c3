/// ERLE of an echo canceller's run over files, the way G.168 measures it: in 50 ms windows,
/// ERLE = 10·log10(P(Sin) / P(Sout)), counting only windows whose Sin is above −45 dBm0 (the
/// same definition as the G.168 test harness, so `trunkctl dsp echo` reproduces the tests).
/// Sin must hold echo only (no near-end talker) for this to be ERLE.
public struct EchoReport: Sendable {
    public static let windowSamples = 400
    public static let activeLevelDBm0: Float = -45

    public struct Window: Sendable {
        /// Start, seconds.
        public var start: Double
        public var erle: Float
    }

    /// Every active window.
    public let windows: [Window]

    public init(sin: [Int16], sout: [Int16]) {
        let threshold = SignalLevel.power(dBm0: Self.activeLevelDBm0)
        var result: [Window] = []
        var start = 0
        while start + Self.windowSamples <= min(sin.count, sout.count) {
            var pin = 0.0, pout = 0.0
            for n in start..<start + Self.windowSamples {
                pin += Double(sin[n]) * Double(sin[n])
                pout += Double(sout[n]) * Double(sout[n])
            }
            pin /= Double(Self.windowSamples)
            pout /= Double(Self.windowSamples)
            if Float(pin) >= threshold {
                result.append(Window(start: Double(start) / 8000, erle: SignalLevel.decibels(ratio: Float(pin / max(pout, 1e-3)))))
            }
            start += Self.windowSamples
        }
        windows = result
    }

    /// Mean ERLE (dB) of the windows lying wholly in [from, to) seconds; nil if none.
    public func meanERLE(from: Double, to: Double) -> Float? {
        let selected = windows.filter { $0.start >= from && $0.start + Double(Self.windowSamples) / 8000 <= to }
        guard !selected.isEmpty else { return nil }
        return selected.reduce(0) { $0 + $1.erle } / Float(selected.count)
    }

    /// End of the first of three consecutive active windows at or above `level` dB (seconds).
    public func timeToReach(_ level: Float) -> Double? {
        guard windows.count >= 3 else { return nil }
        for i in 0...(windows.count - 3) where windows[i].erle >= level && windows[i + 1].erle >= level && windows[i + 2].erle >= level {
            return windows[i].start + Double(Self.windowSamples) / 8000
        }
        return nil
    }

    /// Mean ERLE per whole second (second index → dB), for seconds with active windows.
    public func perSecond() -> [(second: Int, erle: Float)] {
        var sums: [Int: (Float, Int)] = [:]
        for window in windows {
            let second = Int(window.start)
            let (sum, count) = sums[second] ?? (0, 0)
            sums[second] = (sum + window.erle, count + 1)
        }
        return sums.keys.sorted().map { ($0, sums[$0]!.0 / Float(sums[$0]!.1)) }
    }
}
