import CSpanDSP

/// Fax and modem answer/calling tones (spandsp `modem_connect_tones_rx`): fax CNG (1100 Hz),
/// CED/ANS (2100 Hz) and ANS with phase reversals (V.25 ANS/, the echo-canceller disable
/// tone), reported as `.toneStarted`/`.toneEnded` of `.faxCalling`, `.answerTone` and
/// `.answerToneWithReversals`.
///
/// spandsp calls back per sample; the detector feeds it `step` samples at a time so each
/// report is placed to within 1 ms, and stamps a start with the time spandsp needs to be sure
/// (CNG 415 ms of tone, ANS 550 ms, ANS/ three reversal cycles). Not thread safe.
public final class ModemToneDetector: AudioDetector {
    static let step = 8
    /// How long each tone must have lasted when spandsp reports it, in samples.
    static let cngConfirmation = 415 * 8
    static let ansConfirmation = 550 * 8
    static let ansReversalConfirmation = 3 * 450 * 8

    private let cng: OpaquePointer
    private let ans: OpaquePointer
    private var queue = DetectionQueue(capacity: 16)
    private var now: UInt64 = 0
    private var cngPresent = false
    private var ansPresent: ProgressTone?

    public init() {
        guard let cng = modem_connect_tones_rx_init(nil, Int32(MODEM_CONNECT_TONES_FAX_CNG), nil, nil),
              let ans = modem_connect_tones_rx_init(nil, Int32(MODEM_CONNECT_TONES_ANS_PR), nil, nil) else {
            preconditionFailure("spandsp modem_connect_tones_rx_init could not allocate")
        }
        self.cng = cng
        self.ans = ans
        attach()
    }

    deinit {
        modem_connect_tones_rx_free(cng)
        modem_connect_tones_rx_free(ans)
        queue.deallocate()
    }

    private func attach() {
        let context = Unmanaged.passUnretained(self).toOpaque()
        _ = modem_connect_tones_rx_init(cng, Int32(MODEM_CONNECT_TONES_FAX_CNG), { context, code, _, _ in
            guard let context else { return }
            Unmanaged<ModemToneDetector>.fromOpaque(context).takeUnretainedValue().cngChanged(code)
        }, context)
        _ = modem_connect_tones_rx_init(ans, Int32(MODEM_CONNECT_TONES_ANS_PR), { context, code, _, _ in
            guard let context else { return }
            Unmanaged<ModemToneDetector>.fromOpaque(context).takeUnretainedValue().ansChanged(code)
        }, context)
    }

    public func process(_ samples: UnsafeBufferPointer<Int16>, sampleTime: UInt64) {
        guard let base = samples.baseAddress else { return }
        var offset = 0
        while offset < samples.count {
            let n = min(Self.step, samples.count - offset)
            now = sampleTime + UInt64(offset + n)
            _ = modem_connect_tones_rx(cng, base + offset, Int32(n))
            _ = modem_connect_tones_rx(ans, base + offset, Int32(n))
            offset += n
        }
    }

    public func nextDetection() -> MediaDetection? {
        queue.pop()
    }

    public func reset() {
        attach()   // re-initialises both spandsp states in place
        queue.removeAll()
        cngPresent = false
        ansPresent = nil
    }

    private func started(_ tone: ProgressTone, after samples: Int) {
        queue.push(MediaDetection(.toneStarted(tone), sampleTime: now >= UInt64(samples) ? now - UInt64(samples) : 0))
    }

    private func cngChanged(_ code: Int32) {
        if code == Int32(MODEM_CONNECT_TONES_FAX_CNG) {
            cngPresent = true
            started(.faxCalling, after: Self.cngConfirmation)
        } else if cngPresent {
            cngPresent = false
            queue.push(MediaDetection(.toneEnded(.faxCalling), sampleTime: now))
        }
    }

    private func ansChanged(_ code: Int32) {
        let tone: ProgressTone?
        switch code {
        case Int32(MODEM_CONNECT_TONES_ANS): tone = .answerTone
        case Int32(MODEM_CONNECT_TONES_ANS_PR), Int32(MODEM_CONNECT_TONES_ANSAM_PR): tone = .answerToneWithReversals
        default: tone = nil
        }
        if let previous = ansPresent, previous != tone {
            queue.push(MediaDetection(.toneEnded(previous), sampleTime: now))
        }
        if let tone, tone != ansPresent {
            started(tone, after: tone == .answerTone ? Self.ansConfirmation : Self.ansReversalConfirmation)
        }
        ansPresent = tone
    }
}
