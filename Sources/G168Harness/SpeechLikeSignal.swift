import TrunkMedia
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CG168

/// Far-end and near-end test signals, linear, before G.711 encoding.
public enum SpeechLikeSignal {
    /// Which G.168 voiced section starts each CSS period.
    public enum VoicedSection: Sendable {
        case tableC1
        case tableC3
    }

    /// G.168 Annex C style composite source signal: per period a voiced
    /// section (48.62 ms), pseudo-noise (200 ms) and a pause (101.38 ms);
    /// every other period is inverted. Scaled so that the active (non-pause)
    /// parts sit at `activeLevel` dBm0, the way speech level is quoted.
    public static func compositeSource(seconds: Double, activeLevel: Float, voiced: VoicedSection, seed: UInt64) -> [Float] {
        var count: Int32 = 0
        let table: UnsafePointer<Int32>
        switch voiced {
        case .tableC1: table = g168_css_voiced_c1(&count)
        case .tableC3: table = g168_css_voiced_c3(&count)
        }
        let voicedPiece = (0..<Int(count)).map { Float(table[$0]) }
        let voicedLength = 389   // 48.62 ms
        let noiseLength = 1600   // 200 ms
        let pauseLength = 811    // 101.38 ms
        let total = Int(seconds * 8000)
        var random = TestRandom(seed: seed)
        var signal = [Float](repeating: 0, count: total)
        var active = [Bool](repeating: false, count: total)
        var n = 0
        var polarity: Float = 1
        var previousNoise: Float = 0
        // Voiced sections are about 2,500 RMS in the tables; noise matched to it.
        let noiseScale: Float = 2500
        while n < total {
            for i in 0..<voicedLength where n < total {
                signal[n] = polarity * voicedPiece[i % voicedPiece.count]
                active[n] = true
                n += 1
            }
            for _ in 0..<noiseLength where n < total {
                // One-zero low-pass gives the noise a speech-like downward tilt.
                let white = Float(random.gaussian()) * noiseScale
                signal[n] = polarity * 0.5 * (white + previousNoise)
                previousNoise = white
                active[n] = true
                n += 1
            }
            n += pauseLength
            polarity = -polarity
        }
        return scaled(signal, active: active, to: activeLevel)
    }

    /// White Gaussian noise at `level` dBm0.
    public static func whiteNoise(seconds: Double, level: Float, seed: UInt64) -> [Float] {
        var random = TestRandom(seed: seed)
        let rms = SignalLevel.rms(dBm0: level)
        return (0..<Int(seconds * 8000)).map { _ in Float(random.gaussian()) * rms }
    }

    /// A second talker unlike the CSS: low-passed noise, amplitude modulated
    /// at a syllabic rate (about 4 Hz) with word pauses, at `activeLevel` dBm0
    /// during its active parts.
    public static func modulatedNoiseTalker(seconds: Double, activeLevel: Float, seed: UInt64) -> [Float] {
        var random = TestRandom(seed: seed)
        let total = Int(seconds * 8000)
        var signal = [Float](repeating: 0, count: total)
        var active = [Bool](repeating: false, count: total)
        var lowPass: Float = 0
        var n = 0
        while n < total {
            let wordLength = 1600 + Int(random.uniform() * 2400)
            let pauseLength = 400 + Int(random.uniform() * 1200)
            let syllableRate = 3.5 + random.uniform() * 2
            for i in 0..<wordLength where n < total {
                let white = Float(random.gaussian())
                lowPass += 0.6 * (white - lowPass)
                let phase = 2 * Double.pi * syllableRate * Double(i) / 8000
                let envelope = Float(0.25 + 0.75 * abs(sin(phase)))
                signal[n] = lowPass * envelope
                active[n] = true
                n += 1
            }
            n += pauseLength
        }
        return scaled(signal, active: active, to: activeLevel)
    }

    private static func scaled(_ signal: [Float], active: [Bool], to level: Float) -> [Float] {
        var power: Double = 0
        var activeCount = 0
        for (x, a) in zip(signal, active) where a {
            power += Double(x) * Double(x)
            activeCount += 1
        }
        let measured = Float(power / Double(max(activeCount, 1)))
        let gain = (SignalLevel.power(dBm0: level) / max(measured, 1e-9)).squareRoot()
        return signal.map { $0 * gain }
    }
}
