#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Conversions between 16-bit linear sample power and dBm0.
///
/// 0 dBm0 is defined through G.711's digital milliwatt: a sine whose peak is
/// the largest A-law value (32,256) sits at +3.14 dBm0.
public enum SignalLevel {
    /// Mean-square value of a 0 dBm0 signal in 16-bit linear units.
    public static let zeroDBm0Power: Float = {
        let peak: Float = 32256
        return peak * peak / 2 / powf(10, 3.14 / 10)
    }()

    /// Mean-square value of a signal at `dBm0`.
    public static func power(dBm0: Float) -> Float {
        zeroDBm0Power * powf(10, dBm0 / 10)
    }

    /// RMS amplitude of a signal at `dBm0`.
    public static func rms(dBm0: Float) -> Float {
        power(dBm0: dBm0).squareRoot()
    }

    /// Level in dBm0 of a signal with mean-square value `power`.
    public static func dBm0(power: Float) -> Float {
        10 * log10f(max(power, 1e-12) / zeroDBm0Power)
    }

    /// Power ratio in dB, floored so that silence gives a finite number.
    public static func decibels(ratio: Float) -> Float {
        10 * log10f(max(ratio, 1e-12))
    }
}
