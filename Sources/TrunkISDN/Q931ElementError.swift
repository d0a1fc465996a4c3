/// Why the contents of a known information element could not be understood.
public enum Q931ElementError: Error, Hashable, Sendable {
    /// The element ended before a mandatory octet.
    case truncated
    /// A field holds a value the standard reserves, or an extension bit is wrong.
    case invalidField(String)
}

/// Why a message could not be encoded.
public enum Q931EncodingError: Error, Hashable, Sendable {
    /// Q.931 lengths are one octet: contents may not exceed 255 octets.
    case elementTooLong(identifier: UInt8, length: Int)
    /// A codeset outside 0...7 on a raw element.
    case invalidCodeset(UInt8)
}
