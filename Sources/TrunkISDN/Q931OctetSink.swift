/// Where Q.931 encoders put their octets: a growing array (`[UInt8]`, the public API), or a
/// fixed buffer written in place (`Q931OctetWriter`, the stack's own transmit path). One
/// encoder per element, generic over the two, so both produce the same octets.
protocol Q931OctetSink {
    var count: Int { get }
    mutating func append(_ octet: UInt8)
    mutating func append<Octets: Sequence>(contentsOf octets: Octets) where Octets.Element == UInt8
    /// Appends octets lying in memory (an inline run's), in one copy where the sink allows.
    mutating func append(octetsIn memory: UnsafeRawBufferPointer)
    /// For patching a length octet written earlier.
    subscript(position: Int) -> UInt8 { get set }
    /// Drops everything from `position` on (an element that turned out too long).
    mutating func removeOctets(from position: Int)
}

extension Array: Q931OctetSink where Element == UInt8 {
    mutating func append(octetsIn memory: UnsafeRawBufferPointer) {
        append(contentsOf: memory)
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

    mutating func append(octetsIn memory: UnsafeRawBufferPointer) {
        guard memory.count <= buffer.count - count else {
            overflowed = true
            return
        }
        guard let source = memory.baseAddress, memory.count > 0 else { return }
        UnsafeMutableRawPointer(buffer.baseAddress! + count).copyMemory(from: source, byteCount: memory.count)
        count += memory.count
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
