/// Where Q.931 encoders put their octets: a growing array (`[UInt8]`, the public API), or a
/// fixed buffer written in place (`Q931OctetWriter`, the stack's own transmit path). One
/// encoder per element, generic over the two, so both produce the same octets.
protocol Q931OctetSink {
    var count: Int { get }
    mutating func append(_ octet: UInt8)
    mutating func append<Octets: Sequence>(contentsOf octets: Octets) where Octets.Element == UInt8
    /// Appends the first `count` (at most 8) octets of `word`, lowest first: a few fixed
    /// octets (a header, a short element) in one store where the sink allows.
    mutating func append(word: UInt64, count: Int)
    /// Appends an inline run's octets, a word at a time where the sink allows.
    mutating func append<let words: Int>(inline octets: borrowing Q931InlineOctets<words>)
    /// For patching a length octet written earlier.
    subscript(position: Int) -> UInt8 { get set }
    /// Drops everything from `position` on (an element that turned out too long).
    mutating func removeOctets(from position: Int)
}

extension Array: Q931OctetSink where Element == UInt8 {
    mutating func append<let words: Int>(inline octets: borrowing Q931InlineOctets<words>) {
        octets.withUnsafeBufferPointer { append(contentsOf: $0) }
    }

    mutating func append(word: UInt64, count: Int) {
        for index in 0..<count { append(UInt8(truncatingIfNeeded: word >> UInt64(index << 3))) }
    }

    mutating func removeOctets(from position: Int) {
        removeSubrange(position...)
    }
}

/// Writes octets into a buffer it does not own, without per-octet uniqueness or capacity
/// checks of an array; an octet past the end sets `overflowed` and is dropped, so the caller
/// can retry with a larger buffer.
struct Q931OctetWriter: Q931OctetSink {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private(set) var count = 0
    private(set) var overflowed = false

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    @inline(__always)
    mutating func append(_ octet: UInt8) {
        guard count < buffer.count else {
            overflowed = true
            return
        }
        buffer[count] = octet
        count += 1
    }

    mutating func append<Octets: Sequence>(contentsOf octets: Octets) where Octets.Element == UInt8 {
        for octet in octets { append(octet) }
    }

    /// One store when the buffer has room for all 8 octets (those past `count` land where
    /// nothing reads them).
    @inline(__always)
    mutating func append(word: UInt64, count: Int) {
        guard buffer.count - self.count >= 8 else {
            for index in 0..<count { append(UInt8(truncatingIfNeeded: word >> UInt64(index << 3))) }
            return
        }
        UnsafeMutableRawPointer(buffer.baseAddress! + self.count).storeBytes(of: word.littleEndian, as: UInt64.self)
        self.count += count
    }

    /// Whole words, not octets, when the buffer has room for the last word's every octet:
    /// the octets past the run land beyond `count`, where nothing reads them, and a few word
    /// stores replace a call to `memcpy` (most runs are a number's few digits).
    @inline(__always)
    mutating func append<let words: Int>(inline octets: borrowing Q931InlineOctets<words>) {
        let length = octets.count
        guard length > 0 else { return }
        let wordCount = (length + 7) >> 3
        guard wordCount << 3 <= buffer.count - count else {
            for index in 0..<length { append(octets[index]) }
            return
        }
        let target = UnsafeMutableRawPointer(buffer.baseAddress! + count)
        for index in 0..<wordCount {
            target.storeBytes(of: octets.word(at: index).littleEndian, toByteOffset: index << 3, as: UInt64.self)
        }
        count += length
    }

    /// Only octets written so far can be read or patched; after an overflow the position of
    /// a length octet may lie past them, and then the patch is dropped with the rest.
    subscript(position: Int) -> UInt8 {
        get { position < count ? buffer[position] : 0 }
        set { if position < count { buffer[position] = newValue } }
    }

    mutating func removeOctets(from position: Int) {
        count = min(count, position)
    }
}
