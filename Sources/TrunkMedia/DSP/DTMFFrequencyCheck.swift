#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Measures the frequencies of the two tones of a DTMF digit, so that digits whose tones are
/// off by more than the norm allows can be rejected.
///
/// Why: spandsp's receiver decides on 102-sample Goertzel blocks whose bins are about 80 Hz
/// wide, so it accepts tones 3.5 % off nominal (the norm: accept ±1.5 %, reject ±3.5 %).
/// This check runs beside it: every 64 samples it takes a Hann-windowed DFT at each of the
/// eight DTMF frequencies and keeps the last `history` results. When spandsp reports a digit
/// ended, the phase advance between consecutive windows at the digit's row and column
/// frequencies gives each tone's offset from nominal: Δφ = 2π·Δf·64/8000, measurable to
/// ±62 Hz, more than 3.5 % of 1633 Hz.
struct DTMFFrequencyCheck {
    static let frequencies: [Float] = [697, 770, 852, 941, 1209, 1336, 1477, 1633]
    static let toneCount = 8
    static let window = 64
    static let history = 32

    /// Windowed cos/sin tables, frequency-major: `window` entries per frequency.
    private let cosTable: UnsafeMutablePointer<Float>
    private let sinTable: UnsafeMutablePointer<Float>
    /// Accumulating DFT of the current window, per frequency.
    private let accRe: UnsafeMutablePointer<Float>
    private let accIm: UnsafeMutablePointer<Float>
    /// Finished windows: `history` × 8 complex values, ring-indexed by window.
    private let ringRe: UnsafeMutablePointer<Float>
    private let ringIm: UnsafeMutablePointer<Float>
    /// `frequencies`, copied where the per-digit path reads it without touching an array.
    private let nominal: UnsafeMutablePointer<Float>
    private var position = 0
    private var windows = 0

    init() {
        let n = Self.frequencies.count
        cosTable = .allocate(capacity: n * Self.window)
        sinTable = .allocate(capacity: n * Self.window)
        accRe = .allocate(capacity: n)
        accIm = .allocate(capacity: n)
        ringRe = .allocate(capacity: n * Self.history)
        ringIm = .allocate(capacity: n * Self.history)
        nominal = .allocate(capacity: n)
        for (k, f) in Self.frequencies.enumerated() {
            nominal[k] = f
            for m in 0..<Self.window {
                let hann = 0.5 - 0.5 * cosf(2 * Float.pi * (Float(m) + 0.5) / Float(Self.window))
                let angle = 2 * Float.pi * f * Float(m) / 8000
                cosTable[k * Self.window + m] = hann * cosf(angle)
                sinTable[k * Self.window + m] = hann * sinf(angle)
            }
        }
        reset()
    }

    func deallocate() {
        cosTable.deallocate()
        sinTable.deallocate()
        accRe.deallocate()
        accIm.deallocate()
        ringRe.deallocate()
        ringIm.deallocate()
        nominal.deallocate()
    }

    mutating func reset() {
        let n = Self.frequencies.count
        accRe.update(repeating: 0, count: n)
        accIm.update(repeating: 0, count: n)
        ringRe.update(repeating: 0, count: n * Self.history)
        ringIm.update(repeating: 0, count: n * Self.history)
        position = 0
        windows = 0
    }

    mutating func process(_ samples: UnsafeBufferPointer<Int16>) {
        let n = Self.toneCount
        for sample in samples {
            let x = Float(sample)
            for k in 0..<n {
                accRe[k] += x * cosTable[k * Self.window + position]
                accIm[k] -= x * sinTable[k * Self.window + position]
            }
            position += 1
            if position == Self.window {
                let slot = (windows % Self.history) * n
                for k in 0..<n {
                    ringRe[slot + k] = accRe[k]
                    ringIm[slot + k] = accIm[k]
                    accRe[k] = 0
                    accIm[k] = 0
                }
                windows += 1
                position = 0
            }
        }
    }

    /// Relative offset (e.g. 0.02 = 2 % high) of the tone at DTMF frequency `index`, measured
    /// over the recent windows where that tone is strongest (within 3 dB of its peak), over at
    /// most `lookback` windows; nil if no two consecutive windows carry it.
    func offset(frequencyIndex index: Int, lookback: Int) -> Float? {
        let n = Self.toneCount
        let span = min(lookback, windows, Self.history)
        guard span >= 2 else { return nil }
        var peak: Float = 0
        var back = 1
        while back <= span {
            defer { back += 1 }
            let slot = ((windows - back) % Self.history) * n + index
            peak = max(peak, ringRe[slot] * ringRe[slot] + ringIm[slot] * ringIm[slot])
        }
        guard peak > 0 else { return nil }
        let floor = peak * 0.5
        // Sum of X[k]·conj(X[k−1]) over qualifying pairs: a power-weighted phase advance.
        var sumRe: Float = 0
        var sumIm: Float = 0
        var pairs = 0
        back = 1
        while back < span {
            defer { back += 1 }
            let newer = ((windows - back) % Self.history) * n + index
            let older = ((windows - back - 1) % Self.history) * n + index
            let pNew = ringRe[newer] * ringRe[newer] + ringIm[newer] * ringIm[newer]
            let pOld = ringRe[older] * ringRe[older] + ringIm[older] * ringIm[older]
            guard pNew >= floor && pOld >= floor else { continue }
            sumRe += ringRe[newer] * ringRe[older] + ringIm[newer] * ringIm[older]
            sumIm += ringIm[newer] * ringRe[older] - ringRe[newer] * ringIm[older]
            pairs += 1
        }
        guard pairs > 0 else { return nil }
        let f0 = nominal[index]
        // Remove the nominal advance 2π·f0·64/8000, then wrap to (−π, π].
        var advance = atan2f(sumIm, sumRe) - 2 * Float.pi * f0 * Float(Self.window) / 8000
        advance = remainderf(advance, 2 * Float.pi)
        let deltaF = advance * 8000 / (2 * Float.pi * Float(Self.window))
        return deltaF / f0
    }
}
