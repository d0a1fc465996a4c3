#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Detects the 2100 Hz answer tone with periodic phase reversals (ITU-T V.25
/// ANS with reversals, V.8 ANSam) that tells an echo canceller to disable
/// itself (G.165 / G.168 disabling requirements).
///
/// The signal is cut into 10 ms blocks. A Goertzel filter (run per sample by
/// the C kernel, `ec_channel_far` / `ec_channel_near`) gives each block's
/// 2100 Hz amplitude and phase; a block counts as tone when that bin holds most
/// of the block's energy. 10 ms of 2100 Hz is exactly 21 cycles, so a clean
/// tone keeps its phase from block to block apart from a slow drift for tones
/// off by up to ±21 Hz; the drift is tracked, and a jump of more than 90°
/// against the prediction is a phase reversal. A tone without reversals (a fax
/// CED, V.25 ANS for echo suppressors) does not disable the canceller.
struct PhaseReversalToneDetector {
    static let blockLength = 80
    /// Tone must have lasted this long (blocks) when a reversal is seen.
    static let minimumToneBlocksBeforeReversal = 20
    /// Non-tone blocks tolerated inside a tone (the reversal block itself).
    static let toleratedGapBlocks = 2

    // Goertzel coefficients for 2100 Hz at 8 kHz (the recursion's own
    // coefficient, 2·cos ω, is in ec_channel.c).
    private static let omega: Float = 2 * Float.pi * 2100 / 8000
    private let cosine = Float(cos(Double(omega)))
    private let sine = Float(sin(Double(omega)))

    /// Minimum tone level: −31 dBm0, below G.165's −27 dBm0 detection floor
    /// minus line loss margin.
    private let minimumBlockEnergy = SignalLevel.power(dBm0: -31) * Float(blockLength)

    private var toneBlocks = 0
    private var gapBlocks = 0
    private var havePrevious = false
    private var previousRe: Float = 0
    private var previousIm: Float = 0
    private var blocksSincePrevious = 0
    // Per-block phase drift as a unit complex number.
    private var driftRe: Float = 1
    private var driftIm: Float = 0
    private(set) var detected = false

    /// One completed 10 ms block: the Goertzel recursion's last two values
    /// (`s1` newest) and the block's energy, as `ec_channel_far` /
    /// `ec_channel_near` hand them over.
    mutating func blockEnded(s1: Float, s2: Float, energy: Float) {
        let re = s1 - cosine * s2
        let im = sine * s2
        let binPower = re * re + im * im
        // For a pure tone binPower = (A·N/2)² and energy = A²·N/2.
        let toneFraction = energy > 0 ? 2 * binPower / (Float(Self.blockLength) * energy) : 0
        let isTone = energy >= minimumBlockEnergy && toneFraction > 0.6

        guard isTone else {
            gapBlocks += 1
            blocksSincePrevious += 1
            if gapBlocks > Self.toleratedGapBlocks {
                toneBlocks = 0
                havePrevious = false
                driftRe = 1
                driftIm = 0
            }
            return
        }
        gapBlocks = 0
        toneBlocks += 1
        if havePrevious {
            // Rotation since the previous tone block, and the rotation the
            // drift predicts over the same number of blocks.
            let rotRe = re * previousRe + im * previousIm
            let rotIm = im * previousRe - re * previousIm
            var predRe: Float = 1
            var predIm: Float = 0
            for _ in 0..<(blocksSincePrevious + 1) {
                (predRe, predIm) = (predRe * driftRe - predIm * driftIm, predRe * driftIm + predIm * driftRe)
            }
            let agreement = rotRe * predRe + rotIm * predIm
            if agreement < 0 {
                if toneBlocks >= Self.minimumToneBlocksBeforeReversal {
                    detected = true
                }
            } else if blocksSincePrevious == 0 {
                let magnitude = (rotRe * rotRe + rotIm * rotIm).squareRoot()
                if magnitude > 0 {
                    driftRe = rotRe / magnitude
                    driftIm = rotIm / magnitude
                }
            }
        }
        havePrevious = true
        previousRe = re
        previousIm = im
        blocksSincePrevious = 0
    }

    mutating func reset() {
        self = PhaseReversalToneDetector()
    }
}
