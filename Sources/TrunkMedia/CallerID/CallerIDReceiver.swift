#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Listens for caller ID in every form China's exchanges send it (FSK on Bell 202 or V.23
/// tones, DTMF) and reports the identity with the method the line used.
///
/// The two FSK demodulators both decode either tone set at 1200 bit/s (a bit lasts less than
/// a cycle of the 100 Hz that separates them), so which FSK was sent is decided by the tones
/// themselves: long-window Goertzel energies at the four frequencies, compared when a message
/// ends. Results from the two demodulators that end together are one message: the first valid
/// decode wins, and a checksum failure is reported only when neither decoded it.
/// Allocates in `init` only.
public final class CallerIDReceiver {
    private let bell202: FSKCallerIDReceiver
    private let v23: FSKCallerIDReceiver
    private let dtmf: DTMFCallerIDReceiver
    private var tones: FSKToneEnergies
    private var bell202Seen = 0
    private var v23Seen = 0
    /// A message ended at one demodulator; the other gets until `decisionAt` to finish too.
    /// Messages are decoded only when taken, so `process` never allocates.
    private var valid: FSKCallerIDReceiver?
    private var failed: FSKCallerIDReceiver?
    private var deciding = false
    private var decisionAt: UInt64 = 0
    private var ready: FSKCallerIDReceiver?
    private var readyMethod = CallerIDMethod.fskV23
    private static let decisionWindowSamples: UInt64 = 800

    public init(fskCutoffDBm0: Float = -44, dtmfThresholdDBm0: Int32 = -42) {
        bell202 = FSKCallerIDReceiver(method: .fskBell202, cutoffDBm0: fskCutoffDBm0)
        v23 = FSKCallerIDReceiver(method: .fskV23, cutoffDBm0: fskCutoffDBm0)
        dtmf = DTMFCallerIDReceiver(thresholdDBm0: dtmfThresholdDBm0)
        tones = FSKToneEnergies()
    }

    public func process(_ samples: UnsafeBufferPointer<Int16>, sampleTime: UInt64) {
        bell202.process(samples, sampleTime: sampleTime)
        v23.process(samples, sampleTime: sampleTime)
        dtmf.process(samples, sampleTime: sampleTime)
        tones.process(samples)
        if bell202.finishedCount != bell202Seen {
            bell202Seen = bell202.finishedCount
            note(bell202)
        }
        if v23.finishedCount != v23Seen {
            v23Seen = v23.finishedCount
            note(v23)
        }
        if deciding && sampleTime + UInt64(samples.count) >= decisionAt { decide() }
    }

    /// The oldest result not yet taken; decoding happens here, outside the per-block path.
    public func nextResult() -> CallerIDResult? {
        if dtmf.hasResult { return dtmf.nextResult() }
        guard let receiver = ready else { return nil }
        ready = nil
        guard var result = receiver.nextResult() else { return nil }
        result.method = readyMethod
        return result
    }

    /// Whether caller ID is arriving right now (a message is being assembled).
    public var isReceiving: Bool { bell202.isReceiving || v23.isReceiving || dtmf.isReceiving || deciding }

    public func reset() {
        bell202.reset()
        v23.reset()
        dtmf.reset()
        tones.reset()
        bell202Seen = bell202.finishedCount
        v23Seen = v23.finishedCount
        valid = nil
        failed = nil
        deciding = false
        ready = nil
    }

    private func note(_ receiver: FSKCallerIDReceiver) {
        if !deciding {
            deciding = true
            decisionAt = receiver.lastFinishedAt + Self.decisionWindowSamples
        }
        if receiver.lastFinishedIsValid {
            if valid == nil { valid = receiver }
        } else if failed == nil {
            failed = receiver
        }
    }

    private func decide() {
        readyMethod = tones.bell202Energy > tones.v23Energy ? .fskBell202 : .fskV23
        ready = valid ?? failed
        valid = nil
        failed = nil
        deciding = false
    }
}

/// Energies at the Bell 202 (1200/2200 Hz) and V.23 (1300/2100 Hz) tones over 50 ms Goertzel
/// windows, smoothed so that the last few hundred milliseconds of FSK dominate.
struct FSKToneEnergies {
    private static let frequencies: [Float] = [1200, 2200, 1300, 2100]
    private static let window = 400
    private let coefficients: SIMD4<Float>
    private var s1 = SIMD4<Float>(repeating: 0)
    private var s2 = SIMD4<Float>(repeating: 0)
    private var count = 0
    private var energies = SIMD4<Float>(repeating: 0)

    init() {
        var c = SIMD4<Float>(repeating: 0)
        for (index, frequency) in Self.frequencies.enumerated() { c[index] = 2 * cosf(2 * Float.pi * frequency / 8000) }
        coefficients = c
    }

    var bell202Energy: Float { energies[0] + energies[1] }
    var v23Energy: Float { energies[2] + energies[3] }

    mutating func process(_ samples: UnsafeBufferPointer<Int16>) {
        for sample in samples {
            let x = SIMD4<Float>(repeating: Float(sample))
            let s0 = x + coefficients * s1 - s2
            s2 = s1
            s1 = s0
            count += 1
            if count == Self.window {
                let power = s1 * s1 + s2 * s2 - coefficients * s1 * s2
                energies = energies * 0.8 + power
                s1 = .zero
                s2 = .zero
                count = 0
            }
        }
    }

    mutating func reset() {
        s1 = .zero
        s2 = .zero
        count = 0
        energies = .zero
    }
}
