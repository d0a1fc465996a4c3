/// The DTMF keypad: which row and column tones make each digit (ITU-T Q.23).
enum DTMFKeypad {
    /// Row (low group) then column (high group) frequencies, Hz.
    static let frequencies: [Float] = [697, 770, 852, 941, 1209, 1336, 1477, 1633]
    /// The digit at row × 4 + column. From a static string, not an array: this runs on the
    /// media thread, where a lazily made global would allocate the first time.
    static func digit(at index: Int) -> UInt8 {
        let keys: StaticString = "123A456B789C*0#D"
        precondition(index >= 0 && index < keys.utf8CodeUnitCount, "DTMF digit index \(index) outside 0…15")
        return keys.utf8Start[index]
    }

    /// Indices into `frequencies` of a digit's row and column tones.
    /// A switch rather than a table lookup: this runs on the media thread.
    static func tonePair(_ digit: UInt8) -> (Int, Int)? {
        switch digit {
        case UInt8(ascii: "1"): (0, 4)
        case UInt8(ascii: "2"): (0, 5)
        case UInt8(ascii: "3"): (0, 6)
        case UInt8(ascii: "A"): (0, 7)
        case UInt8(ascii: "4"): (1, 4)
        case UInt8(ascii: "5"): (1, 5)
        case UInt8(ascii: "6"): (1, 6)
        case UInt8(ascii: "B"): (1, 7)
        case UInt8(ascii: "7"): (2, 4)
        case UInt8(ascii: "8"): (2, 5)
        case UInt8(ascii: "9"): (2, 6)
        case UInt8(ascii: "C"): (2, 7)
        case UInt8(ascii: "*"): (3, 4)
        case UInt8(ascii: "0"): (3, 5)
        case UInt8(ascii: "#"): (3, 6)
        case UInt8(ascii: "D"): (3, 7)
        default: nil
        }
    }
}
