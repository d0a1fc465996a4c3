/// A bounds-checked cursor over received bytes.
///
/// Every read returns nil instead of trapping, so decoders of bytes from the
/// wire can turn any shortfall into a typed error.
struct ByteReader {
    let bytes: ArraySlice<UInt8>
    private(set) var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    var isAtEnd: Bool { index >= bytes.endIndex }
    var remainingCount: Int { bytes.endIndex - index }

    func peek() -> UInt8? {
        isAtEnd ? nil : bytes[index]
    }

    mutating func readByte() -> UInt8? {
        guard index < bytes.endIndex else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func readBytes(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, count <= remainingCount else { return nil }
        defer { index += count }
        return bytes[index..<(index + count)]
    }

    mutating func readRest() -> ArraySlice<UInt8> {
        defer { index = bytes.endIndex }
        return bytes[index..<bytes.endIndex]
    }
}

/// The same cursor over octets in place: element decoders read a received element through
/// this, so that holding the octets does not retain the frame's array.
struct BufferReader {
    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var index = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { index >= bytes.count }

    func peek() -> UInt8? {
        isAtEnd ? nil : bytes[index]
    }

    mutating func readByte() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    /// The octets not read yet; valid only as long as `bytes` is.
    mutating func readRest() -> UnsafeBufferPointer<UInt8> {
        defer { index = bytes.count }
        return UnsafeBufferPointer(rebasing: bytes[index...])
    }
}
