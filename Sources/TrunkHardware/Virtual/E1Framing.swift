/// The bytes of one E1 tick on the wire: 8 frames (125 µs each) × 32 timeslots, frame-major.
/// TS0 carries G.704 framing: the frame alignment signal (FAS) in even frames, and in odd
/// frames the remote alarm indication (A bit). The Si bits carry CRC-4 (ITU-T G.704 §2.3.3):
/// one tick is exactly one CRC-4 sub-multiframe, two ticks one multiframe.
public enum E1Wire {
    public static let timeslots = 32
    public static let framesPerTick = 8
    public static let bytesPerTick = timeslots * framesPerTick
    public static let dChannelTimeslot = 16

    /// FAS bits 2–8 (0011011); bit 1 is Si.
    static let alignmentSignal: UInt8 = 0x1B
    /// Multiframe alignment signal 001011 in the Si bits of NFAS frames 1,3,5,7,9,11.
    static let multiframeAlignment: [UInt8] = [0, 0, 1, 0, 1, 1]

    static func index(frame: Int, timeslot: Int) -> Int { frame * timeslots + timeslot }
}

/// CRC-4 over a sub-multiframe (2048 bits, C-bit positions taken as zero), polynomial x⁴ + x + 1,
/// computed a byte at a time with the 4-bit register kept in the top of a byte.
enum CRC4 {
    static let table: [UInt8] = (0..<256).map { value in
        var register = UInt8(value)
        for _ in 0..<8 { register = register & 0x80 != 0 ? (register << 1) ^ 0x30 : register << 1 }
        return register
    }

    /// CRC-4 of one sub-multiframe, C bits (Si of frames 0, 2, 4, 6) zeroed.
    static func compute(_ tick: UnsafeBufferPointer<UInt8>) -> UInt8 {
        var register: UInt8 = 0
        for index in 0..<E1Wire.bytesPerTick {
            var byte = tick[index]
            if index % (2 * E1Wire.timeslots) == 0 { byte &= 0x7F }
            register = table[Int(register ^ byte)]
        }
        return register >> 4
    }
}

/// TS0 transmit side of one E1 port: FAS/NFAS words, RAI, CRC-4 and E bits.
struct E1Transmitter {
    var crc4Enabled = true
    private var multiframeHalf = 0
    private var previousCRC: UInt8 = 0
    /// E bits to send: false reports a CRC-4 error received by us.
    var pendingEBits: [Bool] = [true, true]

    mutating func frameTick(_ tick: UnsafeMutableBufferPointer<UInt8>, remoteAlarm: Bool) {
        for frame in 0..<E1Wire.framesPerTick {
            let index = E1Wire.index(frame: frame, timeslot: 0)
            var si: UInt8 = 1
            if crc4Enabled {
                if frame % 2 == 0 {
                    // C1..C4 of the previous sub-multiframe, MSB first.
                    si = (previousCRC >> UInt8(3 - frame / 2)) & 1
                } else {
                    let nfas = multiframeHalf * 4 + frame / 2 // 0...7 within the multiframe
                    if nfas < 6 {
                        si = E1Wire.multiframeAlignment[nfas]
                    } else {
                        si = pendingEBits[nfas - 6] ? 1 : 0
                    }
                }
            }
            if frame % 2 == 0 {
                tick[index] = (si << 7) | E1Wire.alignmentSignal
            } else {
                tick[index] = (si << 7) | 0x40 | (remoteAlarm ? 0x20 : 0) | 0x1F
            }
        }
        if crc4Enabled {
            previousCRC = CRC4.compute(UnsafeBufferPointer(tick))
            if multiframeHalf == 1 { pendingEBits = [true, true] }
        }
        multiframeHalf ^= 1
    }
}

/// TS0 receive side of one E1 port: alarm detection (LOS, AIS, LFA, LMFA, RAI) and the
/// error counters a framer keeps (FAS, CRC-4, E-bit).
struct E1Receiver {
    var crc4Enabled = true
    private(set) var los = false
    private(set) var ais = false
    private(set) var lfa = false
    private(set) var lmfa = false
    private(set) var remoteAlarm = false
    private var consecutiveFASErrors = 0
    private var previousCRC: UInt8? = nil
    private var receivedSi: [UInt8] = Array(repeating: 0, count: 8)
    private var multiframeErrors = 0

    var fasErrors = 0
    var crc4Errors = 0
    var eBitErrors = 0
    /// Set when this tick's sub-multiframe failed its CRC-4 check: report it with E bits.
    private(set) var crcErrorThisTick = false

    mutating func receive(_ tick: UnsafeBufferPointer<UInt8>) {
        crcErrorThisTick = false
        var allZero = true
        var allOne = true
        for byte in tick {
            if byte != 0 { allZero = false }
            if byte != 0xFF { allOne = false }
            if !allZero && !allOne { break }
        }
        los = allZero
        ais = allOne
        if los || ais {
            lfa = true
            consecutiveFASErrors = 0
            previousCRC = nil
            return
        }
        var badFAS = 0
        for frame in stride(from: 0, to: E1Wire.framesPerTick, by: 2) {
            if tick[E1Wire.index(frame: frame, timeslot: 0)] & 0x7F != E1Wire.alignmentSignal { badFAS += 1 }
        }
        fasErrors += badFAS
        consecutiveFASErrors = badFAS == 0 ? 0 : consecutiveFASErrors + badFAS
        // G.706: alignment is lost after three consecutive bad FAS words, regained on a clean tick.
        if consecutiveFASErrors >= 3 { lfa = true } else if badFAS == 0 { lfa = false }
        if lfa { return }
        remoteAlarm = tick[E1Wire.index(frame: 1, timeslot: 0)] & 0x20 != 0
        guard crc4Enabled else { return }

        for frame in 0..<E1Wire.framesPerTick {
            receivedSi[frame] = tick[E1Wire.index(frame: frame, timeslot: 0)] >> 7
        }
        let carriedCRC = (receivedSi[0] << 3) | (receivedSi[2] << 2) | (receivedSi[4] << 1) | receivedSi[6]
        if let expected = previousCRC, expected != carriedCRC {
            crc4Errors += 1
            crcErrorThisTick = true
        }
        previousCRC = CRC4.compute(tick)

        // The first two NFAS Si bits tell the halves apart (0,0 in the first, 1,1 in the
        // second), so the receiver finds multiframe alignment from any starting tick.
        let nfasBits = (receivedSi[1], receivedSi[3], receivedSi[5], receivedSi[7])
        if nfasBits.0 == 0 && nfasBits.1 == 0 && nfasBits.2 == 1 && nfasBits.3 == 0 {
            multiframeErrors = 0
        } else if nfasBits.0 == 1 && nfasBits.1 == 1 {
            multiframeErrors = 0
            eBitErrors += (nfasBits.2 == 0 ? 1 : 0) + (nfasBits.3 == 0 ? 1 : 0)
        } else {
            multiframeErrors += 1
        }
        lmfa = multiframeErrors >= 2
    }
}
