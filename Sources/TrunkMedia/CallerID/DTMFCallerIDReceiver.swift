import CSpanDSP

/// Receives DTMF caller ID (`A…C`, `D…C`, `B…C` absence codes, `A…#`) with spandsp's `dtmf_rx`.
///
/// spandsp's ADSI receiver has a CLIP_DTMF mode, but it keeps `dtmf_rx`'s default detection
/// threshold (too high for caller ID sent at −30 dBm0) and gives no way to change it, so we drive
/// `dtmf_rx` ourselves and collect the string. Nothing is allocated after `init`.
public final class DTMFCallerIDReceiver {
    private var rx: OpaquePointer?
    private let digits: UnsafeMutablePointer<UInt8>
    private static let capacity = 64
    private var count = 0
    private var lastDigitAt: UInt64 = 0
    private var sampleTime: UInt64 = 0
    private let finished: UnsafeMutablePointer<UInt8>
    private var finishedCount = 0
    private var finishedAt: UInt64 = 0
    private var hasFinished = false
    /// Digits stop for this long before the terminator: the string is reported as truncated.
    private let timeoutSamples: UInt64
    private let thresholdDBm0: Int32

    private static let digitsReceived: digits_rx_callback_t = { context, digits, length in
        guard let context, let digits else { return }
        let receiver = Unmanaged<DTMFCallerIDReceiver>.fromOpaque(context).takeUnretainedValue()
        for index in 0..<Int(length) { receiver.received(UInt8(bitPattern: digits[index])) }
    }

    private func configure() {
        // Dial-tone filtering off: caller ID arrives on an idle line. Twist limits as ETSI allows.
        dtmf_rx_parms(rx, 0, 8, 4, thresholdDBm0)
    }

    public init(thresholdDBm0: Int32 = -42, timeoutMs: Int = 2000) {
        digits = .allocate(capacity: Self.capacity)
        finished = .allocate(capacity: Self.capacity)
        timeoutSamples = UInt64(timeoutMs * 8)
        self.thresholdDBm0 = thresholdDBm0
        rx = dtmf_rx_init(nil, Self.digitsReceived, Unmanaged.passUnretained(self).toOpaque())
        precondition(rx != nil, "dtmf_rx_init failed to allocate")
        configure()
    }

    deinit {
        dtmf_rx_free(rx)
        digits.deallocate()
        finished.deallocate()
    }

    public func process(_ samples: UnsafeBufferPointer<Int16>, sampleTime: UInt64) {
        guard let base = samples.baseAddress, !samples.isEmpty else { return }
        self.sampleTime = sampleTime
        _ = dtmf_rx(rx, base, Int32(samples.count))
        self.sampleTime = sampleTime + UInt64(samples.count)
        if count > 0 && self.sampleTime - lastDigitAt > timeoutSamples {
            finish()
        }
    }

    public var isReceiving: Bool { count > 0 }

    /// Whether a finished string waits to be taken with `nextResult()`.
    public var hasResult: Bool { hasFinished }

    public func nextResult() -> CallerIDResult? {
        guard hasFinished else { return nil }
        hasFinished = false
        let outcome = CallerID.decodeDTMF(UnsafeBufferPointer(start: finished, count: finishedCount))
        return CallerIDResult(outcome: outcome, method: .dtmf, sampleTime: finishedAt)
    }

    public func reset() {
        count = 0
        hasFinished = false
        // Re-initialising in place reuses the state spandsp allocated in init.
        _ = dtmf_rx_init(rx, Self.digitsReceived, Unmanaged.passUnretained(self).toOpaque())
        configure()
    }

    private func received(_ digit: UInt8) {
        // A string starts only with A, B or D; other digits on an idle line are not caller ID.
        if count == 0 && digit != UInt8(ascii: "A") && digit != UInt8(ascii: "B") && digit != UInt8(ascii: "D") { return }
        guard count < Self.capacity else { return }
        digits[count] = digit
        count += 1
        lastDigitAt = sampleTime
        if digit == UInt8(ascii: "C") || digit == UInt8(ascii: "#") { finish() }
    }

    private func finish() {
        finished.update(from: digits, count: count)
        finishedCount = count
        finishedAt = sampleTime
        hasFinished = true
        count = 0
    }
}
