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
    /// A message ended at one demodulator; the other gets until `decisionAt` to finish too.
    private var pendingValid: CallerIDResult?
    private var pendingFailure: CallerIDResult?
    private var decisionAt: UInt64 = 0
    private var ready: CallerIDResult?
    private var dtmfReady: CallerIDResult?
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
        let end = sampleTime + UInt64(samples.count)
        for receiver in [bell202, v23] {
            guard let result = receiver.nextResult() else { continue }
            if pendingValid == nil && pendingFailure == nil { decisionAt = result.sampleTime + Self.decisionWindowSamples }
            if result.callerID != nil {
                if pendingValid == nil { pendingValid = result }
            } else if pendingFailure == nil {
                pendingFailure = result
            }
        }
        if (pendingValid != nil || pendingFailure != nil) && end >= decisionAt { decide() }
        if let result = dtmf.nextResult() { dtmfReady = result }
    }

    /// The oldest result not yet taken.
    public func nextResult() -> CallerIDResult? {
        if let result = dtmfReady {
            dtmfReady = nil
            return result
        }
        let result = ready
        ready = nil
        return result
    }

    /// Whether caller ID is arriving right now (a message is being assembled).
    public var isReceiving: Bool { bell202.isReceiving || v23.isReceiving || dtmf.isReceiving || pendingValid != nil || pendingFailure != nil }

    public func reset() {
        bell202.reset()
        v23.reset()
        dtmf.reset()
        tones.reset()
        pendingValid = nil
        pendingFailure = nil
        ready = nil
        dtmfReady = nil
    }

    private func decide() {
        let method: CallerIDMethod = tones.bell202Energy > tones.v23Energy ? .fskBell202 : .fskV23
        if var result = pendingValid {
            result.method = method
            ready = result
        } else if var result = pendingFailure {
            result.method = method
            ready = result
        }
        pendingValid = nil
        pendingFailure = nil
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
