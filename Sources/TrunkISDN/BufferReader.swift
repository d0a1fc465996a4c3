/// A bounds-checked cursor over received octets, read in place: element decoders read a
/// received element through this, so that holding the octets does not retain the frame's array.
///
/// Every read returns nil instead of trapping, so decoders of bytes from the
/// wire can turn any shortfall into a typed error.
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
