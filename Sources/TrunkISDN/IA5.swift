/// IA5 (ASCII) text in party numbers, display and keypad elements.
///
/// Each octet maps to the Unicode scalar of the same value and back, so any octet string,
/// even one with stray 8-bit values, survives a decode/encode round trip.
enum IA5 {
    static func string(from bytes: ArraySlice<UInt8>) -> String {
        // ASCII, the usual case, is the same in UTF-8: build the string in one step.
        if bytes.allSatisfy({ $0 < 0x80 }) {
            return bytes.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
        }
        var text = ""
        for byte in bytes {
            text.unicodeScalars.append(Unicode.Scalar(byte))
        }
        return text
    }

    static func string<let words: Int>(from octets: Q931InlineOctets<words>) -> String {
        octets.withUnsafeBufferPointer { buffer in
            // ASCII, the usual case, is the same in UTF-8: build the string in one step.
            if buffer.allSatisfy({ $0 < 0x80 }) {
                // Measured cheaper than `String(decoding:as:)` for a number's few octets.
                return String(unsafeUninitializedCapacity: buffer.count) { target in
                    target.initialize(fromContentsOf: buffer)
                }
            }
            return string(from: buffer)
        }
    }

    /// The octets of `text` (each scalar above 0xFF as "?", as `append` sends it), or nil when
    /// there are more than fit.
    static func octets<let words: Int>(_ text: String, as _: Q931InlineOctets<words>.Type) -> Q931InlineOctets<words>? {
        var octets = Q931InlineOctets<words>()
        let ascii = text.utf8.withContiguousStorageIfAvailable { utf8 -> Bool? in
            guard utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
            for octet in utf8 {
                guard octets.append(octet) else { return false }
            }
            return true
        }
        switch ascii {
        case .some(.some(true)): return octets
        case .some(.some(false)): return nil
        default: break
        }
        octets = Q931InlineOctets<words>()
        for scalar in text.unicodeScalars {
            guard octets.append(scalar.value <= 0xFF ? UInt8(scalar.value) : UInt8(ascii: "?")) else { return nil }
        }
        return octets
    }

    static func string(from bytes: [UInt8]) -> String {
        string(from: bytes[...])
    }

    static func string(from bytes: some Sequence<UInt8>) -> String {
        var text = ""
        for byte in bytes {
            text.unicodeScalars.append(Unicode.Scalar(byte))
        }
        return text
    }

    static func append<Sink: Q931OctetSink>(_ text: String, to buffer: inout Sink) {
        // Read in place (small strings too): a mutable copy for `withUTF8` cost an allocation
        // per number encoded.
        let ascii = text.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            guard utf8.allSatisfy({ $0 < 0x80 }) else { return false }
            buffer.append(contentsOf: utf8)
            return true
        }
        if ascii == true { return }
        for scalar in text.unicodeScalars {
            buffer.append(scalar.value <= 0xFF ? UInt8(scalar.value) : UInt8(ascii: "?"))
        }
    }

    static func count(_ text: String) -> Int {
        text.unicodeScalars.count
    }
}
