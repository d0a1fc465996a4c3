/// HDLC framing as a D-channel carries it on the line: flags, zero-bit insertion after five
/// ones, a 16-bit FCS (ITU-T V.41 / ISO 3309 CRC, sent low byte first), aborts of seven ones.
/// The simulator runs real bit streams through these so that line impairments produce the
/// same BADFCS/ABORT outcomes a card's HDLC controller reports.
public enum FrameCheckSequence {
    /// Running value to start from, and what a correct frame-plus-FCS leaves behind.
    public static let initial: UInt16 = 0xFFFF
    public static let goodResidue: UInt16 = 0xF0B8

    @usableFromInline static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x8408 : crc >> 1 }
        return crc
    }

    @inlinable public static func update(_ crc: UInt16, _ byte: UInt8) -> UInt16 {
        (crc >> 8) ^ table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)]
    }

    /// The FCS to append to `bytes` (already complemented), low byte first on the line.
    public static func compute<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
        var crc = initial
        for byte in bytes { crc = update(crc, byte) }
        return ~crc
    }
}

/// Turns queued frames into the octets of a 64 kbit/s HDLC bit stream, first bit in the MSB.
struct HDLCEncoder {
    private var queue: [[UInt8]] = []
    private var queueHead = 0
    private var current: [UInt8] = []
    private var byteIndex = 0
    private var bitIndex = 0
    private var onesInARow = 0
    private var inFrame = false
    private var pending: UInt32 = 0
    private var pendingCount = 0
    private var corruptionsPending = 0

    var queuedFrames: Int { queue.count - queueHead + (inFrame ? 1 : 0) }

    mutating func enqueue(_ frame: [UInt8]) {
        var withFCS = frame
        let fcs = FrameCheckSequence.compute(frame)
        withFCS.append(UInt8(truncatingIfNeeded: fcs))
        withFCS.append(UInt8(truncatingIfNeeded: fcs >> 8))
        queue.append(withFCS)
    }

    /// Damage the FCS field of each of the next `count` frames sent, as a bit error landing
    /// there would: framing stays intact, so the receiver must report exactly `count` BADFCS.
    mutating func corruptNextFrames(_ count: Int) {
        corruptionsPending += count
    }

    mutating func nextOctet() -> UInt8 {
        while pendingCount < 8 { produceBits() }
        pendingCount -= 8
        let octet = UInt8(truncatingIfNeeded: pending >> UInt32(pendingCount))
        pending &= (1 << UInt32(pendingCount)) &- 1
        return octet
    }

    private mutating func push(_ bit: UInt32) {
        pending = (pending << 1) | bit
        pendingCount += 1
    }

    private mutating func pushFlag() {
        pending = (pending << 8) | 0x7E
        pendingCount += 8
    }

    private mutating func produceBits() {
        if !inFrame {
            // One flag opens the next frame (and closes the previous one), or idles the line.
            pushFlag()
            guard queueHead < queue.count else { return }
            current = queue[queueHead]
            queueHead += 1
            if queueHead >= 64 {
                queue.removeFirst(queueHead)
                queueHead = 0
            }
            if corruptionsPending > 0 {
                corruptionsPending -= 1
                current[current.count - 2] ^= 0x01
            }
            byteIndex = 0
            bitIndex = 0
            onesInARow = 0
            inFrame = true
            return
        }
        if byteIndex == current.count {
            inFrame = false
            return
        }
        let bit = UInt32((current[byteIndex] >> UInt8(bitIndex)) & 1)
        bitIndex += 1
        if bitIndex == 8 {
            bitIndex = 0
            byteIndex += 1
        }
        push(bit)
        if bit == 1 {
            onesInARow += 1
            if onesInARow == 5 {
                push(0)
                onesInARow = 0
            }
        } else {
            onesInARow = 0
        }
    }
}

/// What the receiving HDLC controller reports for each closed frame.
enum HDLCReceiveResult: Equatable {
    /// A whole frame with its two FCS bytes, FCS verified.
    case frame([UInt8])
    case badFCS
    case abort
}

/// Recovers frames from the octets of an HDLC bit stream (first bit in the MSB).
struct HDLCDecoder {
    static let maximumFrameBytes = 1024

    private var bytes: [UInt8] = []
    private var currentByte: UInt8 = 0
    private var bitsInByte = 0
    private var bitCount = 0
    private var onesInARow = 0
    private var hunting = true
    private var recentBits: UInt8 = 0

    init() { bytes.reserveCapacity(Self.maximumFrameBytes) }

    mutating func receive(_ octet: UInt8, into results: inout [HDLCReceiveResult]) {
        for shift in stride(from: 7, through: 0, by: -1) {
            receiveBit((octet >> UInt8(shift)) & 1, into: &results)
        }
    }

    private mutating func startFrame() {
        bytes.removeAll(keepingCapacity: true)
        currentByte = 0
        bitsInByte = 0
        bitCount = 0
        hunting = false
    }

    private mutating func appendDataBit(_ bit: UInt8) {
        currentByte |= bit << UInt8(bitsInByte)
        bitsInByte += 1
        bitCount += 1
        if bitsInByte == 8 {
            bytes.append(currentByte)
            currentByte = 0
            bitsInByte = 0
        }
    }

    private mutating func receiveBit(_ bit: UInt8, into results: inout [HDLCReceiveResult]) {
        if bit == 1 {
            onesInARow += 1
            if onesInARow == 7 {
                // Seven ones: an abort (or an idle/marking line). Report it only mid-frame.
                if !hunting && bitCount > 8 { results.append(.abort) }
                hunting = true
                return
            }
            if onesInARow == 6 { return } // a flag or an abort; decided by the next bit
            if !hunting { appendDataBit(1) }
            guard !hunting, bytes.count > Self.maximumFrameBytes else { return }
            results.append(.abort)
            hunting = true
            return
        }
        defer { onesInARow = 0 }
        if onesInARow == 6 {
            closeFrame(into: &results)
            startFrame()
            return
        }
        if onesInARow == 5 { return } // a stuffed zero
        if !hunting { appendDataBit(0) }
    }

    private mutating func closeFrame(into results: inout [HDLCReceiveResult]) {
        guard !hunting else { return }
        // The flag's leading zero and five ones were taken as data; take them back.
        let dataBits = bitCount - 6
        guard dataBits > 0 else { return }
        if dataBits % 8 != 0 {
            results.append(.abort)
            return
        }
        let count = dataBits / 8
        guard count >= 4 else { return } // shorter than address + control + FCS: line noise
        var crc = FrameCheckSequence.initial
        for index in 0..<count { crc = FrameCheckSequence.update(crc, bytes[index]) }
        if crc == FrameCheckSequence.goodResidue {
            results.append(.frame(Array(bytes[0..<count])))
        } else {
            results.append(.badFCS)
        }
    }
}
