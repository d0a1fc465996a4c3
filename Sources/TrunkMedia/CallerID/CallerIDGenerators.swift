#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSpanDSP

/// DTMF caller ID needs no generator of its own: `DTMFGenerator.send(callerID.dtmfDigits())`.

/// Sends FSK caller ID with spandsp's ADSI transmitter (CLASS on Bell 202 tones, ETSI CLIP on
/// V.23 tones): channel seizure, mark signal, the message and its checksum.
/// Allocates in `init` only; `fill` runs on the media loop.
public final class FSKCallerIDGenerator: SampleSource {
    public let method: CallerIDMethod
    private var tx: OpaquePointer?
    /// Linear gain from spandsp's nominal FSK level to the requested one, in Q15.
    private let gain: Int32
    private var active = false
    private let message: UnsafeMutablePointer<UInt8>

    /// - Parameter levelDBm0: sending level; −13.5 dBm0 is typical of exchanges.
    public init(method: CallerIDMethod, levelDBm0: Float = -13.5) {
        precondition(method != .dtmf, "FSKCallerIDGenerator sends the FSK methods only")
        self.method = method
        let preset = method == .fskBell202 ? Int32(FSK_BELL202) : Int32(FSK_V23CH1)
        let nominal = Float(cspandsp_fsk_spec(preset).pointee.tx_level)
        let linear = powf(10, (levelDBm0 - nominal) / 20)
        gain = Int32(min(linear, 3.9) * 32768)
        message = .allocate(capacity: 256)
        tx = adsi_tx_init(nil, method == .fskBell202 ? Int32(ADSI_STANDARD_CLASS) : Int32(ADSI_STANDARD_CLIP))
        precondition(tx != nil, "adsi_tx_init failed to allocate")
    }

    deinit {
        adsi_tx_free(tx)
        message.deallocate()
    }

    /// Queues one caller ID message (the transmitter adds length and checksum).
    public func start(_ callerID: CallerID) {
        let bytes = callerID.fskMessage()
        let count = min(bytes.count, 250)
        for index in 0..<count { message[index] = bytes[index] }
        active = adsi_tx_put_message(tx, message, Int32(count)) > 0
    }

    public var isActive: Bool { active }

    public func fill(_ out: UnsafeMutableBufferPointer<Int16>) -> Int {
        guard active, let base = out.baseAddress, !out.isEmpty else { return 0 }
        let written = Int(adsi_tx(tx, base, Int32(out.count)))
        for index in 0..<written {
            out[index] = Int16(clamping: (Int32(out[index]) * gain) >> 15)
        }
        if written < out.count { active = false }
        return written
    }
}
