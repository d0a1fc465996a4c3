import CEchoKernel

/// The two estimates of the echo path and the rules that move coefficients
/// between them (the "two-path" structure of Ochiai et al.).
///
/// The background filter adapts (block-proportionate NLMS in the frequency
/// domain, see `ec_mdf` in CEchoKernel.h); the foreground filter is a frozen
/// copy that produces the canceller's output. Every comparison window
/// both filters' errors are compared on the same samples:
///  - background clearly better, and really cancelling echo → copy it to the
///    foreground (this is how the output converges);
///  - background clearly worse while the foreground is good → the background
///    was disturbed (undetected double talk, a burst of noise): restore it
///    from the foreground.
/// Double talk can therefore only ever spoil the background, never the output,
/// and the background recovers within one window once the double talk ends.
struct EchoPathFilters {
    let taps: Int
    /// Both filters' coefficients and the reference spectra (owned; freed by
    /// ``deallocate()``).
    let state: OpaquePointer

    /// Samples per comparison window (32 ms).
    static let comparisonWindow = 256
    /// Background error energy must be below this share of the foreground's…
    static let copyImprovementRatio: Float = 0.85
    /// …and below this share of the near-end energy (it cancels ≥ 3 dB).
    static let copyCancellationRatio: Float = 0.5
    /// Background 6 dB worse than a foreground that cancels ≥ 6 dB: restore.
    static let restoreDegradationRatio: Float = 4
    static let restoreForegroundRatio: Float = 0.25
    /// Foreground ERLE 6 dB below its established value marks a disturbed window…
    static let disturbanceRatio: Float = 4
    /// …in which the background must be 6 dB better to be copied.
    static let disturbedCopyRatio: Float = 0.25

    private var backgroundErrorEnergy: Float = 0
    private var foregroundErrorEnergy: Float = 0
    private var nearEnergy: Float = 0
    private var compared = 0
    private var sawDoubleTalk = false
    /// Near-end to foreground-error energy ratio of recent undisturbed windows.
    private var establishedRatio: Float = 1
    /// True once the foreground holds an adapted estimate.
    private(set) var foregroundLoaded = false

    init(taps: Int) {
        self.taps = taps
        guard let state = ec_mdf_create(Int32(taps)) else {
            preconditionFailure("cannot allocate the echo path filters for \(taps) taps")
        }
        self.state = state
    }

    func deallocate() {
        ec_mdf_destroy(state)
    }

    /// Outcome of a comparison window.
    enum Transfer {
        case none
        case backgroundToForeground
        case foregroundToBackground
    }

    /// Records one filter block's sums (its far-active samples). A window
    /// closes at the end of the block in which it reached
    /// `comparisonWindow` samples; its decision is carried out by
    /// ``apply(_:)``.
    mutating func compare(_ sums: ec_block_sums) -> Transfer {
        backgroundErrorEnergy += sums.background_error_energy
        foregroundErrorEnergy += sums.foreground_error_energy
        nearEnergy += sums.near_energy
        sawDoubleTalk = sawDoubleTalk || sums.double_talk != 0
        compared += Int(sums.compared)
        guard compared >= Self.comparisonWindow else { return .none }
        defer {
            backgroundErrorEnergy = 0
            foregroundErrorEnergy = 0
            nearEnergy = 0
            compared = 0
            sawDoubleTalk = false
        }
        // A window in which the foreground suddenly cancels 6 dB less than it
        // used to holds either undetected double talk or an echo path change.
        // A background adapting through double talk partly models the near
        // talker and can look slightly better than the foreground there, so in
        // such a window it must be better by a wide margin (an echo path
        // change produces that within a few windows; double talk does not).
        let foregroundRatio = nearEnergy / max(foregroundErrorEnergy, 1e-9)
        let disturbed = foregroundLoaded && foregroundRatio * Self.disturbanceRatio < establishedRatio
        let improvement = disturbed ? Self.disturbedCopyRatio : Self.copyImprovementRatio
        if !sawDoubleTalk,
           backgroundErrorEnergy < improvement * foregroundErrorEnergy,
           backgroundErrorEnergy < Self.copyCancellationRatio * nearEnergy {
            establishedRatio = nearEnergy / max(backgroundErrorEnergy, 1e-9)
            return .backgroundToForeground
        }
        if !disturbed, !sawDoubleTalk {
            // Follow the foreground's normal performance, slowly.
            establishedRatio += 0.125 * (foregroundRatio - establishedRatio)
        }
        if foregroundLoaded,
           backgroundErrorEnergy > Self.restoreDegradationRatio * foregroundErrorEnergy,
           foregroundErrorEnergy < Self.restoreForegroundRatio * nearEnergy {
            return .foregroundToBackground
        }
        return .none
    }

    /// Carries out a decision of ``compare``.
    mutating func apply(_ transfer: Transfer) {
        switch transfer {
        case .none:
            break
        case .backgroundToForeground:
            ec_mdf_copy_to_foreground(state)
            foregroundLoaded = true
        case .foregroundToBackground:
            ec_mdf_restore_background(state)
        }
    }

    mutating func reset() {
        sawDoubleTalk = false
        establishedRatio = 1
        ec_mdf_reset(state)
        backgroundErrorEnergy = 0
        foregroundErrorEnergy = 0
        nearEnergy = 0
        compared = 0
        foregroundLoaded = false
    }
}
