#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Removes dial tone (350 and 440 Hz as in North America, 425 Hz in Europe, 450 Hz in China)
/// with four second-order notches in cascade, each about 40 Hz wide (Q 10): deep at the dial
/// tones, less than 0.3 dB at 697 Hz, the lowest DTMF tone.
struct DialToneNotch {
    static let frequencies: [Double] = [350, 425, 440, 450]
    static let q = 10.0
    static let sections = 4

    /// Per section: b0, b1, b2, a1, a2 (a0 normalised to 1).
    private let coefficients: UnsafeMutablePointer<Float>
    /// Per section: the two delay elements of the transposed direct form II.
    private let delays: UnsafeMutablePointer<Float>

    init() {
        coefficients = .allocate(capacity: Self.sections * 5)
        delays = .allocate(capacity: Self.sections * 2)
        for (s, f) in Self.frequencies.enumerated() {
            let w0 = 2 * Double.pi * f / 8000
            let alpha = sin(w0) / (2 * Self.q)
            let a0 = 1 + alpha
            let c = s * 5
            coefficients[c] = Float(1 / a0)
            coefficients[c + 1] = Float(-2 * cos(w0) / a0)
            coefficients[c + 2] = Float(1 / a0)
            coefficients[c + 3] = Float(-2 * cos(w0) / a0)
            coefficients[c + 4] = Float((1 - alpha) / a0)
        }
        reset()
    }

    func deallocate() {
        coefficients.deallocate()
        delays.deallocate()
    }

    func reset() {
        delays.update(repeating: 0, count: Self.sections * 2)
    }

    /// Filters `count` samples from `input` into `output`.
    func filter(_ input: UnsafePointer<Int16>, into output: UnsafeMutablePointer<Int16>, count: Int) {
        for n in 0..<count {
            var x = Float(input[n])
            for s in 0..<Self.sections {
                let c = coefficients + s * 5
                let d = delays + s * 2
                let y = c[0] * x + d[0]
                d[0] = c[1] * x - c[3] * y + d[1]
                d[1] = c[2] * x - c[4] * y
                x = y
            }
            output[n] = Int16(max(-32768, min(32767, x.rounded())))
        }
    }
}
