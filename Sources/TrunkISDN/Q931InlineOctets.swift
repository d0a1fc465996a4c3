/// A short run of octets held inline, in the value itself, for the variable parts of element
/// values (number digits, channel lists, diagnostics).
///
/// An array there made every copy of an element, a message or a call request retain and
/// release heap storage; these octets are copied with the value and need no reference
/// counting. They are kept in `words` 64-bit words, the last octet of the last word holding
/// the count, so at most `words * 8 - 1` octets fit: more are refused (`init?` returns nil,
/// decoders throw), never cut short. Words rather than an array of octets because the
/// compiler copies an inline array of octets octet by octet (a 31-octet channel list cost
/// about 200 instructions per copy) and words in a few moves.
///
/// Octet `i` is bits `8 * (i % 8)` and up of word `i / 8`; octets past the count are zero,
/// so equal runs have equal words.
public struct Q931InlineOctets<let words: Int>: Sendable {
    private var storage: InlineArray<words, UInt64>

    /// How many octets fit.
    public static var maximumCount: Int { words * 8 - 1 }

    /// No octets.
    public init() {
        precondition(words >= 1 && words <= 32, "Q931InlineOctets of \(words) words: 1...32 allowed")
        storage = InlineArray(repeating: 0)
    }

    /// The octets of `octets`, or nil when there are more than `maximumCount`.
    public init?<Octets: Sequence>(_ octets: Octets) where Octets.Element == UInt8 {
        self.init()
        for octet in octets {
            guard append(octet) else { return nil }
        }
    }

    /// The octets of a received element, copied in one step where the octet order in memory
    /// is the words' own; nil when there are more than `maximumCount`.
    init?(_ octets: UnsafeBufferPointer<UInt8>) {
        self.init()
        let count = octets.count
        guard count <= Self.maximumCount else { return nil }
        guard count > 0 else { return }
        #if _endian(little)
        withUnsafeMutableBytes(of: &storage) { target in
            target.baseAddress!.copyMemory(from: octets.baseAddress!, byteCount: count)
        }
        length = count
        #else
        for octet in octets { append(octet) }
        #endif
    }

    init?(_ octets: ArraySlice<UInt8>) {
        guard let value = octets.withUnsafeBufferPointer({ Self($0) }) else { return nil }
        self = value
    }

    @inline(__always)
    private var length: Int {
        get { Int(truncatingIfNeeded: storage[unchecked: words - 1] >> 56) }
        set {
            let last = words - 1
            storage[unchecked: last] = storage[unchecked: last] & 0x00FF_FFFF_FFFF_FFFF | UInt64(newValue) << 56
        }
    }

    @inline(__always)
    private func octet(at index: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: storage[unchecked: index >> 3] >> UInt64((index & 7) << 3))
    }

    @inline(__always)
    private mutating func setOctet(_ octet: UInt8, at index: Int) {
        let shift = UInt64((index & 7) << 3)
        let word = storage[unchecked: index >> 3]
        storage[unchecked: index >> 3] = word & ~(0xFF << shift) | UInt64(octet) << shift
    }

    /// Adds `octet` at the end; false (and no change) when the run is full.
    @inline(__always)
    @discardableResult
    public mutating func append(_ octet: UInt8) -> Bool {
        let index = length
        guard index < Self.maximumCount else { return false }
        setOctet(octet, at: index)
        length = index + 1
        return true
    }

    /// Appends the octets to an encoder's buffer.
    @inline(__always)
    func encode<Sink: Q931OctetSink>(into buffer: inout Sink) {
        buffer.append(inline: self)
    }

    /// Word `index` of the storage: octet `8 * index + i` in bits `8 * i` and up (the last
    /// word's top octet is the count).
    @inline(__always)
    func word(at index: Int) -> UInt64 {
        storage[unchecked: index]
    }

    /// The octets in place (where the octet order in memory is the words' own), or else
    /// copied out.
    func withUnsafeBufferPointer<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        #if _endian(little)
        let count = length
        return withUnsafeBytes(of: storage) { raw in
            body(UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[..<count]))
        }
        #else
        return array.withUnsafeBufferPointer(body)
        #endif
    }

    /// The octets as an array, for callers that keep the array-based API.
    public var array: [UInt8] { Array(self) }
}

extension Q931InlineOctets: RandomAccessCollection {
    public typealias Index = Int

    public var startIndex: Int { 0 }
    public var endIndex: Int { length }
    public var count: Int { length }
    public var isEmpty: Bool { length == 0 }

    /// The first octet without going through indices: the channel a message names.
    public var first: UInt8? {
        length == 0 ? nil : octet(at: 0)
    }

    public subscript(position: Int) -> UInt8 {
        @inline(__always)
        get {
            precondition(position >= 0 && position < length, "index \(position) outside 0..<\(length)")
            return octet(at: position)
        }
        set {
            precondition(position >= 0 && position < length, "index \(position) outside 0..<\(length)")
            setOctet(newValue, at: position)
        }
    }
}

extension Q931InlineOctets: Hashable {
    // Octets past the count are zero, so comparing words compares the octets and the count.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        for index in 0..<words where lhs.storage[unchecked: index] != rhs.storage[unchecked: index] {
            return false
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        for index in 0..<words {
            hasher.combine(storage[unchecked: index])
        }
    }
}

extension Q931InlineOctets: ExpressibleByArrayLiteral {
    /// A literal longer than `maximumCount` is a programming error and traps.
    public init(arrayLiteral octets: UInt8...) {
        guard let value = Self(octets) else {
            preconditionFailure("\(octets.count) octets given, at most \(Self.maximumCount) fit")
        }
        self = value
    }
}

extension Q931InlineOctets: CustomStringConvertible {
    /// Like an array's: `[1, 2, 3]`.
    public var description: String { array.description }
}
