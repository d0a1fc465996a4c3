#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Decides whether one analysed block holds a DTMF digit, and which: the strongest row and
/// column tones must each reach the threshold, their levels must differ by no more than the
/// twist allows, and together they must hold most of the block's energy. Neighbouring tones
/// of a group fall within one Hann main lobe, so which of them is present, and how far off
/// nominal, is judged over the whole digit by `DTMFReceiver`'s frequency measurement.
struct DTMFBlockClassifier {
    /// |X|² of a tone at the threshold level over a full block.
    let thresholdPower: Float
    /// Largest accepted power ratio row / column (normal twist) and column / row (reverse).
    let normalTwistRatio: Float
    let reverseTwistRatio: Float
    /// Fraction of the block's energy the two tones must carry together.
    let toneToTotal: Float
    /// Σw²/(Σw)²·2: turns |X|² into the windowed energy a tone contributes to the block.
    private let energyScale: Float

    /// A-law moves a measured twist by up to about half a dB, noise 15 dB below the weaker
    /// tone by about 0.4 dB, and a tone 1.5 % off loses up to 0.35 dB more than the other:
    /// a digit sent at exactly the configured twist would be lost without this margin.
    static let twistMarginDB: Float = 1.5
    /// A block inside a digit with both tones 1.5 % off (−0.35 dB at 1633 Hz) and noise 15 dB
    /// below each tone keeps about −0.3 dB of its energy at the two bins; talk-off wants the
    /// test as tight as A-law and noise allow.
    static let toneToTotalDB: Float = -1

    init(configuration: DTMFReceiverConfiguration, windowSum: Float, windowEnergy: Float) {
        let rms = SignalLevel.rms(dBm0: Float(configuration.thresholdDBm0))
        thresholdPower = rms * rms * windowSum * windowSum / 2
        normalTwistRatio = powf(10, (Float(configuration.normalTwist) + Self.twistMarginDB) / 10)
        reverseTwistRatio = powf(10, (Float(configuration.reverseTwist) + Self.twistMarginDB) / 10)
        toneToTotal = powf(10, Self.toneToTotalDB / 10)
        energyScale = 2 * windowEnergy / (windowSum * windowSum)
    }

    /// The digit's index for `DTMFKeypad.digit(at:)` (row × 4 + column), or −1 for none.
    func classify(re: UnsafePointer<Float>, im: UnsafePointer<Float>, energy: Float) -> Int {
        var row = 0
        var rowPower: Float = -1
        var column = 4
        var columnPower: Float = -1
        for k in 0..<4 {
            let p = re[k] * re[k] + im[k] * im[k]
            if p > rowPower { rowPower = p; row = k }
        }
        for k in 4..<8 {
            let p = re[k] * re[k] + im[k] * im[k]
            if p > columnPower { columnPower = p; column = k }
        }
        guard rowPower >= thresholdPower, columnPower >= thresholdPower,
              rowPower <= columnPower * normalTwistRatio, columnPower <= rowPower * reverseTwistRatio,
              (rowPower + columnPower) * energyScale >= toneToTotal * energy else { return -1 }
        return row * 4 + column - 4
    }
}
