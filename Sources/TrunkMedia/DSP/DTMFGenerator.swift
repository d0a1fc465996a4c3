import CSpanDSP

/// DTMF sender (spandsp `dtmf_tx`) as a `SampleSource`: queue digits with `send`, the media
/// loop pulls samples with `fill`. Levels default to China's −9 dBm0 low group and −11 dBm0
/// high group. All memory is allocated in `init`; `fill` never allocates. Not thread safe.
public final class DTMFGenerator: SampleSource {
    /// Digits spandsp's transmit queue holds (MAX_DTMF_DIGITS in dtmf.h).
    public static let queueCapacity = 128

    public let lowGroupDBm0: Int
    public let highGroupDBm0: Int
    public let onMs: Int
    public let offMs: Int
    private let state: OpaquePointer

    public init(lowGroupDBm0: Int = -9, highGroupDBm0: Int = -11, onMs: Int = 100, offMs: Int = 100) {
        precondition(onMs > 0 && offMs >= 0, "DTMF on time must be positive and off time not negative")
        self.lowGroupDBm0 = lowGroupDBm0
        self.highGroupDBm0 = highGroupDBm0
        self.onMs = onMs
        self.offMs = offMs
        guard let state = dtmf_tx_init(nil) else {
            preconditionFailure("spandsp dtmf_tx_init could not allocate its state")
        }
        self.state = state
        configure()
    }

    deinit {
        dtmf_tx_free(state)
    }

    private func configure() {
        // spandsp takes the low group's level and the high group's offset from it.
        dtmf_tx_set_level(state, Int32(lowGroupDBm0), Int32(highGroupDBm0 - lowGroupDBm0))
        dtmf_tx_set_timing(state, Int32(onMs), Int32(offMs))
    }

    /// Queues `digits` (0–9, *, #, A–D); returns how many were taken, fewer than given when
    /// the queue is full or a character is not a DTMF digit (sending stops before it).
    @discardableResult
    public func send(_ digits: String) -> Int {
        var valid = 0
        for byte in digits.utf8 {
            guard DTMFKeypad.tonePair(byte) != nil else { break }
            valid += 1
        }
        guard valid > 0 else { return 0 }
        return Int(digits.withCString { dtmf_tx_put(state, $0, Int32(valid)) } == 0 ? valid : 0)
    }

    /// Drops queued digits and any digit being played.
    public func stop() {
        _ = dtmf_tx_init(state)
        configure()
    }

    public func fill(_ out: UnsafeMutableBufferPointer<Int16>) -> Int {
        guard let base = out.baseAddress, out.count > 0 else { return 0 }
        return Int(dtmf_tx(state, base, Int32(out.count)))
    }
}
