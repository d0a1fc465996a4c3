import CSpanDSP

/// The DTMF receiver Trunkline used before `DTMFReceiver`: spandsp's `dtmf_rx` plus our
/// `DTMFFrequencyCheck`. Kept as the baseline that `trunkbench-dsp` measures `DTMFReceiver`'s
/// cost and acceptance matrix against; products attach `DTMFReceiver`.
/// A digit is reported once it has ended, as `.dtmf(digit:durationMs:)` stamped with the
/// sample where it began.
///
/// spandsp decides every 102 samples and needs two agreeing blocks to change state, so a
/// digit is known about 25 ms after it starts and after it ends; the receiver feeds spandsp up
/// to each block boundary at a time, so it knows at which sample each decision fell.
/// All memory is allocated in `init`; `process` never allocates. Not thread safe.
public final class SpanDSPDTMFReceiver: AudioDetector {
    public let configuration: DTMFReceiverConfiguration
    /// spandsp's decision block (DTMF_SAMPLES_PER_BLOCK in dtmf.c).
    static let blockLength = 102
    /// Samples from a tone's start (or end) to the decision that reports it: two blocks.
    static let decisionDelay = 2 * blockLength

    private let state: OpaquePointer
    private var queue = DetectionQueue(capacity: 32)
    private var frequencyCheck = DTMFFrequencyCheck()
    /// Samples fed to spandsp since init/reset, to find its block boundaries.
    private var fed = 0
    /// Channel time of the block boundary being fed up to (read by the callback).
    private var boundaryTime: UInt64 = 0
    private var currentDigit: UInt8 = 0
    private var digitDecidedAt: UInt64 = 0
    private let checksFrequency: Bool
    /// Digits spandsp reported that the frequency check refused.
    public private(set) var rejectedForFrequency = 0

    public init(configuration: DTMFReceiverConfiguration = DTMFReceiverConfiguration()) {
        self.configuration = configuration
        checksFrequency = configuration.maximumFrequencyError != nil
        guard let state = dtmf_rx_init(nil, nil, nil) else {
            preconditionFailure("spandsp dtmf_rx_init could not allocate its state")
        }
        self.state = state
        configure()
    }

    deinit {
        dtmf_rx_free(state)
        queue.deallocate()
        frequencyCheck.deallocate()
    }

    /// spandsp compares twist strictly and A-law moves a measured twist by up to about half a
    /// dB: a digit sent at exactly the configured twist is lost without this margin (measured:
    /// at 4 dB reverse twist 13 of 16 digits were missed).
    static let twistMargin = 1

    private func configure() {
        dtmf_rx_parms(state, configuration.filterDialTone ? 1 : 0,
                      Int32(configuration.normalTwist + Self.twistMargin),
                      Int32(configuration.reverseTwist + Self.twistMargin), Int32(configuration.thresholdDBm0))
        dtmf_rx_set_realtime_callback(state, { context, code, _, _ in
            guard let context else { return }
            Unmanaged<SpanDSPDTMFReceiver>.fromOpaque(context).takeUnretainedValue().decided(code: code)
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    public func process(_ samples: UnsafeBufferPointer<Int16>, sampleTime: UInt64) {
        guard let base = samples.baseAddress else { return }
        var offset = 0
        while offset < samples.count {
            let piece = min(samples.count - offset, Self.blockLength - fed % Self.blockLength)
            boundaryTime = sampleTime + UInt64(offset + piece)
            // The check sees exactly what spandsp has seen when a decision falls.
            if checksFrequency {
                frequencyCheck.process(UnsafeBufferPointer(start: base + offset, count: piece))
            }
            _ = dtmf_rx(state, base + offset, Int32(piece))
            fed += piece
            offset += piece
        }
    }

    public func nextDetection() -> MediaDetection? {
        queue.pop()
    }

    public func reset() {
        _ = dtmf_rx_init(state, nil, nil)
        configure()
        queue.removeAll()
        frequencyCheck.reset()
        fed = 0
        currentDigit = 0
        rejectedForFrequency = 0
    }

    /// spandsp's realtime callback: `code` is the ASCII digit now present, or 0 for none.
    private func decided(code: Int32) {
        let digit = UInt8(truncatingIfNeeded: code)
        if currentDigit != 0 && digit != currentDigit {
            finishDigit()
        }
        if digit != 0 && digit != currentDigit {
            currentDigit = digit
            digitDecidedAt = boundaryTime
        }
    }

    private func finishDigit() {
        let digit = currentDigit
        currentDigit = 0
        let samples = boundaryTime &- digitDecidedAt
        if let limit = configuration.maximumFrequencyError, !frequenciesWithin(limit, digit: digit, samples: Int(samples)) {
            rejectedForFrequency += 1
            return
        }
        let start = digitDecidedAt >= UInt64(Self.decisionDelay) ? digitDecidedAt - UInt64(Self.decisionDelay) : 0
        queue.push(MediaDetection(.dtmf(digit: digit, durationMs: Int(samples) / 8), sampleTime: start))
    }

    /// Whether both tones of `digit` lie within `limit` of nominal, measured over the windows
    /// the digit can have covered (its length plus the decision delay).
    private func frequenciesWithin(_ limit: Float, digit: UInt8, samples: Int) -> Bool {
        guard let (row, column) = DTMFKeypad.tonePair(digit) else { return false }
        let lookback = (samples + 2 * Self.decisionDelay) / DTMFFrequencyCheck.window + 1
        guard let rowOffset = frequencyCheck.offset(frequencyIndex: row, lookback: lookback),
              let columnOffset = frequencyCheck.offset(frequencyIndex: column, lookback: lookback) else { return false }
        return abs(rowOffset) <= limit && abs(columnOffset) <= limit
    }
}
