/// ITU-T G.711 companding, table driven: decode is one 256-entry lookup, encode one
/// 65,536-entry lookup indexed by the 16-bit sample, so the media loop never branches per sample.
public enum G711 {
    /// A-law byte → linear 16-bit sample.
    @inlinable public static func alawToLinear(_ byte: UInt8) -> Int16 { alawDecodeTable[Int(byte)] }
    /// Linear 16-bit sample → A-law byte.
    @inlinable public static func linearToAlaw(_ sample: Int16) -> UInt8 { alawEncodeTable[Int(UInt16(bitPattern: sample))] }
    /// µ-law byte → linear 16-bit sample.
    @inlinable public static func ulawToLinear(_ byte: UInt8) -> Int16 { ulawDecodeTable[Int(byte)] }
    /// Linear 16-bit sample → µ-law byte.
    @inlinable public static func linearToUlaw(_ sample: Int16) -> UInt8 { ulawEncodeTable[Int(UInt16(bitPattern: sample))] }

    /// The code that decodes to the smallest positive value: what an idle channel carries.
    public static let alawSilence: UInt8 = 0xD5
    public static let ulawSilence: UInt8 = 0xFF

    public static let alawDecodeTable: [Int16] = (0..<256).map { alawDecode(UInt8($0)) }
    public static let ulawDecodeTable: [Int16] = (0..<256).map { ulawDecode(UInt8($0)) }
    public static let alawEncodeTable: [UInt8] = (0..<65536).map { alawEncode(Int16(bitPattern: UInt16($0))) }
    public static let ulawEncodeTable: [UInt8] = (0..<65536).map { ulawEncode(Int16(bitPattern: UInt16($0))) }

    // The reference algorithms the tables are built from (G.711 segment/quantisation rules).

    static func alawEncode(_ sample: Int16) -> UInt8 {
        // A-law works on 13-bit magnitudes; even bits are inverted on the line (XOR 0x55).
        var magnitude = Int32(sample) >> 3
        var signAndInversion: Int32 = 0xD5
        if magnitude < 0 {
            magnitude = -magnitude - 1
            signAndInversion = 0x55
        }
        var segment: Int32 = 0
        var limit: Int32 = 0x1F
        while segment < 8 && magnitude > limit {
            segment += 1
            limit = (limit << 1) | 1
        }
        if segment >= 8 { return UInt8(0x7F ^ signAndInversion) }
        let mantissa = segment < 2 ? (magnitude >> 1) & 0x0F : (magnitude >> segment) & 0x0F
        return UInt8(((segment << 4) | mantissa) ^ signAndInversion)
    }

    static func alawDecode(_ byte: UInt8) -> Int16 {
        let value = Int32(byte ^ 0x55)
        var magnitude = (value & 0x0F) << 4
        let segment = (value & 0x70) >> 4
        switch segment {
        case 0: magnitude += 8
        case 1: magnitude += 0x108
        default: magnitude = (magnitude + 0x108) << (segment - 1)
        }
        return Int16(value & 0x80 != 0 ? magnitude : -magnitude)
    }

    static func ulawEncode(_ sample: Int16) -> UInt8 {
        // µ-law works on 14-bit magnitudes with a bias of 33 so segments are powers of two.
        var magnitude = Int32(sample) >> 2
        var mask: Int32 = 0xFF
        if magnitude < 0 {
            magnitude = -magnitude
            mask = 0x7F
        }
        magnitude = min(magnitude, 8159) + 33
        var segment: Int32 = 0
        var limit: Int32 = 0x3F
        while segment < 8 && magnitude > limit {
            segment += 1
            limit = (limit << 1) | 1
        }
        if segment >= 8 { return UInt8(0x7F ^ mask) }
        return UInt8(((segment << 4) | ((magnitude >> (segment + 1)) & 0x0F)) ^ mask)
    }

    static func ulawDecode(_ byte: UInt8) -> Int16 {
        let value = Int32(~byte)
        let magnitude = (((value & 0x0F) << 3) + 0x84) << ((value & 0x70) >> 4)
        return Int16(value & 0x80 != 0 ? 0x84 - magnitude : magnitude - 0x84)
    }
}
