import CEchoKernel

/// Line echo canceller for one channel (ITU-T G.168 style).
///
/// Signal names follow the canceller's point of view at the hybrid:
/// - `reference`: the far-end signal on its way to the line (Rin → Rout);
/// - `nearEnd`: what comes back from the line — near-end speech plus the echo
///   of `reference` (Sin);
/// - output: `nearEnd` with the echo removed (Sout).
///
/// Structure: DC blocking on both inputs → Geigel double-talk detector →
/// two-path echo path estimate (see ``EchoPathFilters``) → non-linear
/// processor with comfort noise. A 2100 Hz tone with phase reversals on either
/// direction disables the canceller until ``reset()``.
///
/// The echo path estimate is a partitioned-block frequency-domain adaptive
/// filter (64-sample blocks, 128-point FFTs, one partition per 64 taps):
/// the background filter adapts once per block (8 ms) with a proportionate,
/// per-bin normalised block-NLMS step; the foreground filter that produces
/// the output adds no latency — its first 64 taps run in the time domain per
/// sample and the echo from later taps, which only depends on reference
/// samples already received, is computed per block in the frequency domain.
/// Blocks are aligned to the sample stream, so the output does not depend
/// on the caller's block length. The per-sample work (detectors, NLP) and
/// the transforms run in the C kernel (CEchoKernel).
///
/// All memory is allocated in `init`; ``process(reference:nearEnd:output:)``
/// never allocates. Not thread safe: one channel belongs to one media thread.
public final class EchoCanceller {
    public let configuration: EchoCancellerConfiguration

    /// ERLE (dB) from which the canceller reports itself converged.
    public static let convergedERLE: Float = 15

    /// Samples per filter block: the background adapts, and the two filters
    /// are compared and exchanged, once per block (8 ms).
    static let blockLength = Int(EC_MDF_BLOCK)
    /// NLMS-equivalent step size μ while converging, and once ERLE exceeds
    /// `fineStepERLE` (20 dB). Measured on the G.168 cases: a block update
    /// applies 64 samples' gradients at once, and μ 0.5 converges fastest
    /// (median time to 20 dB at 1024 taps 0.85 s, against 1.2 s for μ 0.8
    /// and 1.95 s for μ 1.0); the NLMS excess error grows with μ/(2 − μ),
    /// and μ 0.15 once converged keeps the steady state within about 1.5 dB
    /// of the A-law/noise floor for 256 to 1024 taps.
    static let stepSize: Float = 0.5
    static let fineStepSize: Float = 0.15
    static let fineStepERLE: Float = 100
    /// Fewest samples between exact recomputations of the far-end window
    /// energy (in between it is updated sample by sample). Longer tails
    /// refresh once per tail length, so a refresh costs about one
    /// multiply-add per sample whatever the tail (float drift over a few
    /// thousand updates stays far below the far-activity threshold).
    static let energyRefreshInterval = 256
    /// IPNLMS proportionality α (−1 = NLMS, towards +1 = PNLMS), applied per
    /// 64-tap partition. −0.5 suits hybrid paths: a few ms of response
    /// somewhere in a long, empty tail.
    static let proportionality: Float = -0.5
    /// Far-end activity: window energy above −45 dBm0 on average.
    static let farActivePower = SignalLevel.power(dBm0: -45)
    /// Regularisation of the step's denominator (a −50 dBm0 floor).
    static let regularisationPower = SignalLevel.power(dBm0: -50)

    /// All mutable state, behind a pointer: the media loop then works on it
    /// directly, without the dynamic exclusivity checks (and copies) that
    /// stored properties of a class cost on every call.
    private let core: UnsafeMutablePointer<EchoCancellerCore>

    public init(configuration: EchoCancellerConfiguration = EchoCancellerConfiguration()) {
        self.configuration = configuration
        core = .allocate(capacity: 1)
        core.initialize(to: EchoCancellerCore(configuration: configuration))
    }

    deinit {
        core.pointee.deallocate()
        core.deinitialize(count: 1)
        core.deallocate()
    }

    /// Current state for supervision.
    public var stats: EchoCancellerStats { core.pointee.stats }

    /// Back to the state at channel open (call end): forgets the echo path and
    /// re-enables a canceller that a 2100 Hz tone had disabled.
    public func reset() {
        core.pointee.reset()
    }

    /// Convenience over arrays; `output` must already hold `nearEnd.count` samples.
    public func process(reference: [Int16], nearEnd: [Int16], output: inout [Int16]) {
        reference.withUnsafeBufferPointer { r in
            nearEnd.withUnsafeBufferPointer { n in
                output.withUnsafeMutableBufferPointer { o in
                    process(reference: r, nearEnd: n, output: o)
                }
            }
        }
    }

    /// Cancels the echo of `reference` in `nearEnd`, writing `output`.
    /// The three buffers hold the same number of samples (any block size).
    public func process(reference: UnsafeBufferPointer<Int16>,
                        nearEnd: UnsafeBufferPointer<Int16>,
                        output: UnsafeMutableBufferPointer<Int16>) {
        let count = nearEnd.count
        precondition(reference.count == count && output.count >= count, "block lengths differ")
        guard let ref = reference.baseAddress, let near = nearEnd.baseAddress,
              let out = output.baseAddress else { return }
        core.pointee.process(reference: ref, nearEnd: near, output: out, count: count)
    }
}

/// The canceller's state and processing (see ``EchoCanceller``).
struct EchoCancellerCore {
    let configuration: EchoCancellerConfiguration
    private let taps: Int
    private var delayLine: ReferenceDelayLine
    private var filters: EchoPathFilters
    /// The foreground's head coefficients and tail echo (inside `filters`).
    private let foregroundHead: UnsafePointer<Float>
    private let foregroundTail: UnsafePointer<Float>
    /// Far-end window energy above which the far end counts as active.
    private let farActiveEnergy: Float
    /// DC blockers, Goertzel sums, Geigel detector, ERLE meter and NLP: the
    /// per-sample state, run by the C kernel (`ec_channel_far/near`).
    private var channel = ec_channel()
    private var farTone = PhaseReversalToneDetector()
    private var nearTone = PhaseReversalToneDetector()
    /// Per-block buffers (`blockLength` each): near end after DC blocking,
    /// foreground residual, background error, masked error.
    private let blockNear: UnsafeMutablePointer<Float>
    private let blockResidual: UnsafeMutablePointer<Float>
    private let backgroundError: UnsafeMutablePointer<Float>
    private let adaptationError: UnsafeMutablePointer<Float>
    /// Per-sample flags of the current block (EC_FLAG_*).
    private let blockFlags: UnsafeMutablePointer<UInt8>
    private var disabledByTone = false
    private var samplesProcessed = 0
    /// Samples between window-energy refreshes (a multiple of the block, so
    /// refreshes fall on chunk starts whatever the caller's block length),
    /// and samples left until the next one.
    private let energyRefreshInterval: Int
    private var samplesToEnergyRefresh = 0
    /// Geigel threshold for the current block (fixed at the block's start so
    /// that the output does not depend on the caller's block length).
    private var geigelThreshold: Float = 1

    init(configuration: EchoCancellerConfiguration) {
        let taps = configuration.tailTaps
        precondition(taps >= 64 && taps <= 2048 && taps % Int(EC_KERNEL_TAP_QUANTUM) == 0,
                     "tailTaps must be a multiple of \(EC_KERNEL_TAP_QUANTUM) in 64...2048")
        self.configuration = configuration
        self.taps = taps
        energyRefreshInterval = max(EchoCanceller.energyRefreshInterval, taps)
        // The line covers the tail (window energy) and the 128-sample
        // transform frames.
        delayLine = ReferenceDelayLine(taps: max(taps, 2 * EchoCanceller.blockLength), maximumChunk: EchoCanceller.blockLength)
        filters = EchoPathFilters(taps: taps)
        foregroundHead = ec_mdf_head(filters.state)
        foregroundTail = ec_mdf_tail(filters.state)
        farActiveEnergy = EchoCanceller.farActivePower * Float(taps)
        // Geigel hangover 30 ms: bridges the gaps between syllables of
        // near-end speech. NLP hangover 10 ms: residual echo keeps arriving
        // for a while after the far end stops. The comfort-noise estimate
        // starts at −70 dBm0 and stays within [−90, −40] dBm0.
        ec_channel_init(&channel, Int32(taps), 240, 80,
                        SignalLevel.power(dBm0: -70), SignalLevel.power(dBm0: -90), SignalLevel.power(dBm0: -40))
        let block = EchoCanceller.blockLength
        func buffer() -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: block)
            p.initialize(repeating: 0, count: block)
            return p
        }
        blockNear = buffer()
        blockResidual = buffer()
        backgroundError = buffer()
        adaptationError = buffer()
        blockFlags = .allocate(capacity: block)
        blockFlags.initialize(repeating: 0, count: block)
    }

    func deallocate() {
        delayLine.deallocate()
        filters.deallocate()
        for p in [blockNear, blockResidual, backgroundError, adaptationError] { p.deallocate() }
        blockFlags.deallocate()
    }

    /// ERLE of the foreground (dB), smoothed over about 128 ms of far-end
    /// speech without double talk.
    private var erleDecibels: Float {
        channel.near_power > 0
            ? SignalLevel.decibels(ratio: channel.near_power / max(channel.residual_power, 1e-6)) : 0
    }

    var stats: EchoCancellerStats {
        let erle = erleDecibels
        return EchoCancellerStats(
            erleDecibels: erle,
            converged: filters.foregroundLoaded && erle >= EchoCanceller.convergedERLE,
            doubleTalk: channel.geigel_hangover_left > 0,
            nlpActive: channel.nlp_hangover_left > 0,
            disabledByTone: disabledByTone,
            samplesProcessed: samplesProcessed)
    }

    mutating func reset() {
        delayLine.reset()
        filters.reset()
        ec_channel_reset(&channel)
        farTone.reset()
        nearTone.reset()
        geigelThreshold = 1
        disabledByTone = false
        samplesProcessed = 0
        samplesToEnergyRefresh = 0
    }

    mutating func process(reference ref: UnsafePointer<Int16>, nearEnd near: UnsafePointer<Int16>,
                          output out: UnsafeMutablePointer<Int16>, count: Int) {
        var done = 0
        while done < count {
            if disabledByTone {
                (out + done).update(from: near + done, count: count - done)
                samplesProcessed += count - done
                return
            }
            // Chunks are aligned to the stream (not to the caller's blocks) so
            // that the output is the same for any block length.
            let length = min(EchoCanceller.blockLength - samplesProcessed % EchoCanceller.blockLength, count - done)
            processChunk(reference: ref + done, nearEnd: near + done, output: out + done, count: length)
            done += length
            samplesProcessed += length
            if configuration.toneDisabling, farTone.detected || nearTone.detected {
                disabledByTone = true
            }
        }
    }

    /// Part of one filter block: samples [offset, offset + count) of the
    /// block that starts at a multiple of `blockLength` in the stream.
    private mutating func processChunk(reference: UnsafePointer<Int16>, nearEnd: UnsafePointer<Int16>,
                                       output: UnsafeMutablePointer<Int16>, count: Int) {
        let block = EchoCanceller.blockLength
        let offset = samplesProcessed % block
        delayLine.reserve(count)
        let first = delayLine.newest + 1
        let samples = delayLine.storage
        if samplesToEnergyRefresh == 0 {
            channel.window_energy = ec_kernel_energy(samples + (first - taps), Int32(taps))
            samplesToEnergyRefresh = energyRefreshInterval
        }
        samplesToEnergyRefresh -= count
        if offset == 0 {
            // Until the foreground cancels 10 dB the Geigel test only assumes
            // ERL ≥ 0 dB, or echo peaks would keep freezing the first
            // convergence; then the 6 dB of G.168's minimum ERL. The test runs
            // on the foreground's residual rather than on Sin: once the
            // foreground cancels echo, echo peaks (which at 6 dB ERL often
            // exceed half the far-end peak) no longer look like near speech.
            // Once 20 dB are cancelled the residual echo's peaks sit far below an eighth of the
            // far end's even at 6 dB ERL, so a tighter threshold lets near speech at the far
            // end's level count as double talk on more than its peaks: the NLP then stops
            // gating the agent's words during double talk.
            if filters.foregroundLoaded && channel.near_power > 100 * channel.residual_power {
                geigelThreshold = 0.125
            } else {
                geigelThreshold = filters.foregroundLoaded && channel.near_power > 10 * channel.residual_power ? 0.5 : 1.0
            }
        }
        var chunk = ec_chunk(
            line: samples + first, head: foregroundHead, tail_echo: foregroundTail + offset,
            near: blockNear + offset, residual: blockResidual + offset, flags: blockFlags + offset,
            geigel_threshold: geigelThreshold,
            far_active_energy: farActiveEnergy,
            nlp: configuration.nonLinearProcessing ? 1 : 0,
            comfort_noise: configuration.comfortNoise ? 1 : 0)
        if ec_channel_process(&channel, &chunk, reference, nearEnd, output, Int32(count)) != 0 {
            farTone.blockEnded(s1: channel.tone_block_s1.0, s2: channel.tone_block_s2.0, energy: channel.tone_block_energy.0)
            nearTone.blockEnded(s1: channel.tone_block_s1.1, s2: channel.tone_block_s2.1, energy: channel.tone_block_energy.1)
        }
        delayLine.advance(count)
        if offset + count == block {
            ec_channel_end_block(&channel)
            endBlock(frame: samples + (delayLine.newest - 2 * block + 1))
        }
    }

    /// End of a filter block: background error and the foreground's tail
    /// echo for the next block, two-path comparison, one adaptation step.
    private mutating func endBlock(frame: UnsafePointer<Float>) {
        let block = EchoCanceller.blockLength
        let state = filters.state
        ec_mdf_filter_background(state, frame, blockNear, backgroundError)
        var sums = ec_block_sums()
        let learning = ec_block_summary(blockFlags, blockNear, blockResidual, backgroundError, adaptationError,
                                        Int32(block), &sums)
        let transfer = filters.compare(sums)
        filters.apply(transfer)
        // Learn only from far-end speech without double talk.
        if learning > 0, transfer != .foregroundToBackground {
            // Large steps while converging, small ones once the output cancels
            // well: the NLMS excess error grows with μ/(2 − μ).
            let fine = channel.near_power > EchoCanceller.fineStepERLE * channel.residual_power
            ec_mdf_adapt(state, adaptationError, fine ? EchoCanceller.fineStepSize : EchoCanceller.stepSize,
                         EchoCanceller.regularisationPower, EchoCanceller.proportionality)
        }
    }
}

