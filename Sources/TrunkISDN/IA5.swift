/// IA5 (ASCII) text in party numbers, display and keypad elements.
///
/// Each octet maps to the Unicode scalar of the same value and back, so any octet string,
/// even one with stray 8-bit values, survives a decode/encode round trip.
enum IA5 {
    static func string(from bytes: some Sequence<UInt8>) -> String {
        var text = ""
        for byte in bytes {
            text.unicodeScalars.append(Unicode.Scalar(byte))
        }
        return text
    }

    static func append(_ text: String, to buffer: inout [UInt8]) {
        for scalar in text.unicodeScalars {
            buffer.append(scalar.value <= 0xFF ? UInt8(scalar.value) : UInt8(ascii: "?"))
        }
    }

    static func count(_ text: String) -> Int {
        text.unicodeScalars.count
    }
}
