import CSpanDSP

/// Receives FSK caller ID (CLASS over Bell 202 tones, or ETSI CLIP over V.23 tones).
///
/// The demodulator is spandsp's `fsk_rx` with the same presets its ADSI receiver uses; the
/// character framing and message checksum are ours because spandsp's `adsi_rx` drops a message
/// with a bad checksum with only a log line (and 0.0.6's log handler has no context pointer),
/// so a corrupted caller ID could not be reported as one. Owning `fsk_rx` also lets us lower its
/// carrier threshold for weak lines. Nothing is allocated after `init`.
public final class FSKCallerIDReceiver {
    public let method: CallerIDMethod
    private var rx: OpaquePointer?
    /// The message being assembled, then the last complete one until it is taken.
    private let message: UnsafeMutablePointer<UInt8>
    private var messageLength = 0
    private var characterBits = 0
    private var character = 0
    private var consecutiveOnes = 0
    private var sampleTime: UInt64 = 0
    /// The most recent finished message (or failure) not yet taken by `nextResult()`.
    private let finished: UnsafeMutablePointer<UInt8>
    private var finishedLength = 0
    private var finishedStatus = FinishedStatus.none
    private var finishedAt: UInt64 = 0
    /// Stop bits that were spaces: a noisy line or a wrong bit rate.
    public private(set) var framingErrors = 0

    private enum FinishedStatus {
        case none
        case valid
        case badChecksum(expected: UInt8, received: UInt8)
        case truncated
    }

    /// - Parameter cutoffDBm0: carrier-detect threshold; spandsp's default suits −30 dBm0 lines
    ///   badly, so we default lower.
    public init(method: CallerIDMethod, cutoffDBm0: Float = -44) {
        precondition(method != .dtmf, "FSKCallerIDReceiver handles the FSK methods only")
        self.method = method
        message = .allocate(capacity: 256)
        finished = .allocate(capacity: 256)
        let preset = method == .fskBell202 ? Int32(FSK_BELL202) : Int32(FSK_V23CH1)
        let context = Unmanaged.passUnretained(self).toOpaque()
        rx = fsk_rx_init(nil, cspandsp_fsk_spec(preset), Int32(FSK_FRAME_MODE_ASYNC), { context, bit in
            guard let context else { return }
            Unmanaged<FSKCallerIDReceiver>.fromOpaque(context).takeUnretainedValue().put(bit: bit)
        }, context)
        precondition(rx != nil, "fsk_rx_init failed to allocate")
        fsk_rx_signal_cutoff(rx, cutoffDBm0)
    }

    deinit {
        fsk_rx_free(rx)
        message.deallocate()
        finished.deallocate()
    }

    /// Feeds received audio; `sampleTime` is the channel's sample count at the block's start.
    public func process(_ samples: UnsafeBufferPointer<Int16>, sampleTime: UInt64) {
        guard let base = samples.baseAddress, !samples.isEmpty else { return }
        self.sampleTime = sampleTime
        _ = fsk_rx(rx, base, Int32(samples.count))
        self.sampleTime = sampleTime + UInt64(samples.count)
    }

    /// Counts finished messages (good or not), so a listener can tell a new one has finished
    /// without taking (and decoding) it.
    public private(set) var finishedCount = 0
    /// Whether the last finished message passed its checksum.
    public var lastFinishedIsValid: Bool {
        if case .valid = finishedStatus { return true }
        return false
    }
    public var lastFinishedAt: UInt64 { finishedAt }

    /// Whether a message is being assembled right now.
    public var isReceiving: Bool { messageLength > 0 }

    /// The last finished message, decoded; nil when nothing new has finished.
    public func nextResult() -> CallerIDResult? {
        let status = finishedStatus
        finishedStatus = .none
        let bytes = UnsafeBufferPointer(start: finished, count: finishedLength)
        let outcome: Result<CallerID, CallerIDError>
        switch status {
        case .none: return nil
        case .valid: outcome = CallerID.decodeFSK(bytes)
        case let .badChecksum(expected, received):
            outcome = .failure(.checksum(messageType: finished[0], expected: expected, received: received))
        case .truncated: outcome = .failure(.truncated(received: finishedLength))
        }
        return CallerIDResult(outcome: outcome, method: method, sampleTime: finishedAt)
    }

    public func reset() {
        messageLength = 0
        characterBits = 0
        consecutiveOnes = 0
        finishedStatus = .none
        framingErrors = 0
        fsk_rx_restart(rx, cspandsp_fsk_spec(method == .fskBell202 ? Int32(FSK_BELL202) : Int32(FSK_V23CH1)),
                       Int32(FSK_FRAME_MODE_ASYNC))
    }

    // MARK: - Framing: 1 start bit (space), 8 data bits LSB first, 1 stop bit (mark)

    private func put(bit: Int32) {
        if bit < 0 {
            switch bit {
            case Int32(SIG_STATUS_CARRIER_UP):
                messageLength = 0
                characterBits = 0
                consecutiveOnes = 0
            case Int32(SIG_STATUS_CARRIER_DOWN):
                // A message cut short is worth reporting only when it had started like caller ID.
                if messageLength >= 2 && Self.isMessageType(message[0]) { finish(.truncated) }
                messageLength = 0
            default:
                break
            }
            return
        }
        let one = bit & 1 == 1
        if characterBits == 0 {
            if one {
                consecutiveOnes += 1
            } else {
                // A start bit. A long run of marks before it is the mark signal that precedes a
                // message (or the idle between two): acquisition starts again.
                if consecutiveOnes > 10 { messageLength = 0 }
                consecutiveOnes = 0
                characterBits = 1
                character = 0
            }
        } else if characterBits <= 8 {
            character = (character >> 1) | (one ? 0x80 : 0)
            characterBits += 1
        } else {
            characterBits = 0
            guard one else {
                framingErrors += 1
                return
            }
            received(UInt8(character))
        }
    }

    private func received(_ octet: UInt8) {
        guard messageLength < 256 else { return }
        message[messageLength] = octet
        messageLength += 1
        guard messageLength >= 3, messageLength == Int(message[1]) + 3 else { return }
        var sum: UInt8 = 0
        for index in 0..<(messageLength - 1) { sum &+= message[index] }
        let expected = 0 &- sum
        let received = message[messageLength - 1]
        messageLength -= 1
        if expected == received {
            finish(.valid)
        } else if Self.isMessageType(message[0]) {
            finish(.badChecksum(expected: expected, received: received))
        }  // else: noise framed as characters, not a message; dropped.
        messageLength = 0
    }

    private func finish(_ status: FinishedStatus) {
        finished.update(from: message, count: messageLength)
        finishedLength = messageLength
        finishedStatus = status
        finishedAt = sampleTime
        finishedCount += 1
    }

    private static func isMessageType(_ type: UInt8) -> Bool {
        type == CallerIDFSKCode.singleDataMessage || type == CallerIDFSKCode.multipleDataMessage
            || type == 0x06 || type == 0x82 || type == 0x86 || type == 0x89
    }
}
