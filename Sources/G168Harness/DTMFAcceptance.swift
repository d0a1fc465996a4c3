#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TrunkCore
import TrunkMedia

/// The DTMF acceptance matrix of issue 5, shared by the tests and `trunkbench-dsp --matrix`:
/// all 16 digits, 40 ms tones with 40 ms pauses, at −10…−30 dBm0 per tone, twist +4/−8 dB,
/// each tone and both tones at once ±1.5 % off (accepted) or ±3.5 % off (rejected), white
/// noise 15 dB below the weaker tone, through A-law.
public enum DTMFAcceptance {
    public static let keypad = Array("123A456B789C*0#D")
    public static let allDigits = "123A456B789C*0#D"
    static let lowGroup: [Double] = [697, 770, 852, 941]
    static let highGroup: [Double] = [1209, 1336, 1477, 1633]

    public struct Case: Sendable, CustomStringConvertible {
        public var lowDBm0: Double
        public var highDBm0: Double
        public var rowError: Double
        public var columnError: Double
        public var noiseSeed: UInt64

        /// Whether the norm says the digits must be detected (both tones within ±1.5 %).
        public var mustDetect: Bool { abs(rowError) <= 0.015 + 1e-9 && abs(columnError) <= 0.015 + 1e-9 }

        public var description: String {
            func percent(_ x: Double) -> String { (x > 0 ? "+" : "") + String(Double((x * 1000).rounded()) / 10) + "%" }
            return "low \(Int(lowDBm0)) high \(Int(highDBm0)) dBm0, row \(percent(rowError)) col \(percent(columnError)), seed \(noiseSeed)"
        }
    }

    /// (low, high) dBm0: equal levels, reverse twist +4 dB and normal twist −8 dB, from the
    /// strongest to the weakest the norm names.
    public static let levelPairs: [(Double, Double)] = [
        (-10, -10), (-20, -20), (-30, -30),
        (-14, -10), (-24, -20), (-30, -26),
        (-10, -18), (-16, -24), (-22, -30),
    ]
    /// (row, column) relative errors: each tone alone and both at once in all four sign pairs.
    public static func offsets(_ e: Double) -> [(Double, Double)] {
        [(e, 0), (-e, 0), (0, e), (0, -e), (e, e), (-e, -e), (e, -e), (-e, e)]
    }

    public static func acceptedCases(seeds: [UInt64] = [1, 2, 3]) -> [Case] {
        cases(offsets: [(0, 0)] + offsets(0.015), seeds: seeds)
    }

    public static func rejectedCases(seeds: [UInt64] = [1, 2]) -> [Case] {
        cases(offsets: offsets(0.035), seeds: seeds)
    }

    static func cases(offsets: [(Double, Double)], seeds: [UInt64]) -> [Case] {
        var all: [Case] = []
        for (low, high) in levelPairs {
            for (row, column) in offsets {
                for seed in seeds {
                    all.append(Case(lowDBm0: low, highDBm0: high, rowError: row, columnError: column, noiseSeed: seed))
                }
            }
        }
        return all
    }

    /// Peak amplitude of a sine at `dBm0`.
    static func amplitude(_ dBm0: Double) -> Double { Double(SignalLevel.rms(dBm0: Float(dBm0))) * 2.0.squareRoot() }

    /// The case's 16 digits after 100 ms of noise, 200 ms of noise after them, through A-law.
    public static func signal(_ c: Case) -> [Int16] {
        let rate = 8000.0
        var random = TestRandom(seed: c.noiseSeed)
        let noise = Double(SignalLevel.rms(dBm0: Float(min(c.lowDBm0, c.highDBm0) - 15)))
        let a1 = amplitude(c.lowDBm0), a2 = amplitude(c.highDBm0)
        var out = [Double](repeating: 0, count: 800)
        for character in keypad {
            let index = keypad.firstIndex(of: character)!
            let f1 = lowGroup[index / 4] * (1 + c.rowError)
            let f2 = highGroup[index % 4] * (1 + c.columnError)
            for n in 0..<320 {
                let t = Double(n) / rate
                out.append(a1 * sin(2 * .pi * f1 * t) + a2 * sin(2 * .pi * f2 * t + 1))
            }
            out.append(contentsOf: repeatElement(0, count: 320))
        }
        out.append(contentsOf: repeatElement(0, count: 1600))
        return out.map { x in
            let noisy = (x + random.gaussian() * noise).rounded()
            return G711.alawToLinear(G711.linearToAlaw(Int16(max(-32768, min(32767, noisy)))))
        }
    }

    /// The digits `detector` reports over `samples`, fed in 160-sample blocks.
    public static func digits(_ detector: AudioDetector, _ samples: [Int16]) -> String {
        var found = ""
        samples.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                let n = min(160, all.count - start)
                detector.process(UnsafeBufferPointer(rebasing: all[start..<start + n]), sampleTime: UInt64(start))
                while let d = detector.nextDetection() {
                    if case .dtmf(let digit, _) = d.kind { found.append(Character(UnicodeScalar(digit))) }
                }
                start += n
            }
        }
        return found
    }

    /// How many of the 16 digits came out right: for a case that must be detected, digits
    /// matched in order (longest common subsequence, so an extra digit costs one); for one that
    /// must be rejected, 16 minus the digits reported.
    public static func score(_ c: Case, found: String) -> Int {
        guard c.mustDetect else { return max(0, 16 - found.count) }
        let a = Array(allDigits), b = Array(found)
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 1...a.count {
            for j in stride(from: 1, through: b.count, by: 1) {
                table[i][j] = a[i - 1] == b[j - 1] ? table[i - 1][j - 1] + 1 : max(table[i - 1][j], table[i][j - 1])
            }
        }
        return table[a.count][b.count] - max(0, b.count - table[a.count][b.count])
    }
}
