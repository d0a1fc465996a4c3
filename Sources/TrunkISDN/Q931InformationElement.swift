/// Identifiers of the codeset 0 information elements this stack understands (Q.931 table 4-3).
public enum Q931ElementIdentifier {
    public static let bearerCapability: UInt8 = 0x04
    public static let callIdentity: UInt8 = 0x10
    public static let cause: UInt8 = 0x08
    public static let callState: UInt8 = 0x14
    public static let channelIdentification: UInt8 = 0x18
    public static let facility: UInt8 = 0x1C
    public static let progressIndicator: UInt8 = 0x1E
    public static let notificationIndicator: UInt8 = 0x27
    public static let display: UInt8 = 0x28
    public static let dateTime: UInt8 = 0x29
    public static let keypadFacility: UInt8 = 0x2C
    public static let connectedNumber: UInt8 = 0x4C
    public static let callingPartyNumber: UInt8 = 0x6C
    public static let calledPartyNumber: UInt8 = 0x70
    public static let redirectingNumber: UInt8 = 0x74
    public static let restartIndicator: UInt8 = 0x79
    public static let lowLayerCompatibility: UInt8 = 0x7C
    public static let highLayerCompatibility: UInt8 = 0x7D
    /// Single-octet elements.
    public static let sendingComplete: UInt8 = 0xA1
    static let shiftMask: UInt8 = 0xF0
    static let shift: UInt8 = 0x90
}

/// An information element kept as octets: one this stack does not know, one outside
/// codeset 0, or a known one whose contents could not be decoded.
public struct RawInformationElement: Hashable, Sendable {
    /// Codeset the element was in (0 = Q.931, 5 = national, 6 = network specific, 7 = user specific).
    public var codeset: UInt8
    public var identifier: UInt8
    /// Contents after the length octet; empty for single-octet elements.
    public var contents: [UInt8]

    public init(codeset: UInt8, identifier: UInt8, contents: [UInt8] = []) {
        self.codeset = codeset
        self.identifier = identifier
        self.contents = contents
    }

    /// Single-octet elements have bit 8 of the identifier set and no length octet.
    public var isSingleOctet: Bool { identifier & 0x80 != 0 }

    /// Q.931 §4.5.1: codeset 0 identifiers 0000 xxxx must be understood by the receiver.
    public var isComprehensionRequired: Bool { codeset == 0 && identifier & 0xF0 == 0 }
}

/// One information element of a Q.931 message.
public enum Q931InformationElement: Hashable, Sendable {
    case bearerCapability(BearerCapability)
    case channelIdentification(ChannelIdentification)
    case callingPartyNumber(PartyNumber)
    case calledPartyNumber(PartyNumber)
    case connectedNumber(PartyNumber)
    case redirectingNumber(PartyNumber)
    case cause(CauseElement)
    case progressIndicator(ProgressIndicator)
    /// Display text (IA5), as octets so any content survives.
    case display([UInt8])
    /// Keypad facility digits (IA5).
    case keypadFacility([UInt8])
    case sendingComplete
    case dateTime(DateTimeElement)
    case highLayerCompatibility(HighLayerCompatibility)
    /// Low layer compatibility, carried through end to end without interpretation.
    case lowLayerCompatibility([UInt8])
    case callState(CallStateElement)
    case restartIndicator(RestartIndicator)
    case notificationIndicator(NotificationIndicator)
    /// Facility (supplementary service APDUs), carried through opaque.
    case facility([UInt8])
    /// Call identity of a suspended call (SUSPEND/RESUME), as octets.
    case callIdentity([UInt8])
    /// Not known to this stack, or in a codeset other than 0.
    case unrecognized(RawInformationElement)
    /// Known identifier whose contents are wrong; the call layer answers with cause 100.
    case invalid(RawInformationElement, Q931ElementError)

    /// The identifier octet (for single-octet elements the whole octet).
    public var identifier: UInt8 {
        switch self {
        case .bearerCapability: return Q931ElementIdentifier.bearerCapability
        case .channelIdentification: return Q931ElementIdentifier.channelIdentification
        case .callingPartyNumber: return Q931ElementIdentifier.callingPartyNumber
        case .calledPartyNumber: return Q931ElementIdentifier.calledPartyNumber
        case .connectedNumber: return Q931ElementIdentifier.connectedNumber
        case .redirectingNumber: return Q931ElementIdentifier.redirectingNumber
        case .cause: return Q931ElementIdentifier.cause
        case .progressIndicator: return Q931ElementIdentifier.progressIndicator
        case .display: return Q931ElementIdentifier.display
        case .keypadFacility: return Q931ElementIdentifier.keypadFacility
        case .sendingComplete: return Q931ElementIdentifier.sendingComplete
        case .dateTime: return Q931ElementIdentifier.dateTime
        case .highLayerCompatibility: return Q931ElementIdentifier.highLayerCompatibility
        case .lowLayerCompatibility: return Q931ElementIdentifier.lowLayerCompatibility
        case .callState: return Q931ElementIdentifier.callState
        case .restartIndicator: return Q931ElementIdentifier.restartIndicator
        case .notificationIndicator: return Q931ElementIdentifier.notificationIndicator
        case .facility: return Q931ElementIdentifier.facility
        case .callIdentity: return Q931ElementIdentifier.callIdentity
        case .unrecognized(let raw), .invalid(let raw, _): return raw.identifier
        }
    }

    /// Whether the element is kept as octets (unrecognised, or known but invalid).
    var isRawElement: Bool {
        switch self {
        case .unrecognized, .invalid: return true
        default: return false
        }
    }

    /// The codeset the element belongs to.
    public var codeset: UInt8 {
        switch self {
        case .unrecognized(let raw), .invalid(let raw, _): return raw.codeset
        default: return 0
        }
    }

    /// Decodes the contents of a variable-length element, or wraps a single-octet one.
    static func decode(codeset: UInt8, identifier: UInt8, contents: ArraySlice<UInt8>) -> Q931InformationElement {
        guard codeset == 0 else {
            return .unrecognized(RawInformationElement(codeset: codeset, identifier: identifier, contents: Array(contents)))
        }
        // Decoded in place: a decoder holding the slice retained the frame's array.
        return contents.withUnsafeBufferPointer { decode(identifier: identifier, contents: $0) }
    }

    /// `decode(codeset:identifier:contents:)` for contents read in place, as the message decoder does.
    static func decode(codeset: UInt8, identifier: UInt8, contents: UnsafeBufferPointer<UInt8>) -> Q931InformationElement {
        guard codeset == 0 else {
            return .unrecognized(RawInformationElement(codeset: codeset, identifier: identifier, contents: Array(contents)))
        }
        return decode(identifier: identifier, contents: contents)
    }

    /// Decodes the contents of a codeset 0 element; contents that do not decode are kept as
    /// an invalid element.
    private static func decode(identifier: UInt8, contents: UnsafeBufferPointer<UInt8>) -> Q931InformationElement {
        do throws(Q931ElementError) {
            switch identifier {
            case Q931ElementIdentifier.bearerCapability: return .bearerCapability(try BearerCapability(contents: contents))
            case Q931ElementIdentifier.channelIdentification: return .channelIdentification(try ChannelIdentification(contents: contents))
            case Q931ElementIdentifier.callingPartyNumber: return .callingPartyNumber(try PartyNumber(contents: contents))
            case Q931ElementIdentifier.calledPartyNumber: return .calledPartyNumber(try PartyNumber(contents: contents))
            case Q931ElementIdentifier.connectedNumber: return .connectedNumber(try PartyNumber(contents: contents))
            case Q931ElementIdentifier.redirectingNumber: return .redirectingNumber(try PartyNumber(contents: contents))
            case Q931ElementIdentifier.cause: return .cause(try CauseElement(contents: contents))
            case Q931ElementIdentifier.progressIndicator: return .progressIndicator(try ProgressIndicator(contents: contents))
            case Q931ElementIdentifier.display: return .display(Array(contents))
            case Q931ElementIdentifier.keypadFacility: return .keypadFacility(Array(contents))
            case Q931ElementIdentifier.sendingComplete: return .sendingComplete
            case Q931ElementIdentifier.dateTime: return .dateTime(try DateTimeElement(contents: contents))
            case Q931ElementIdentifier.highLayerCompatibility:
                return .highLayerCompatibility(try HighLayerCompatibility(contents: contents))
            case Q931ElementIdentifier.lowLayerCompatibility: return .lowLayerCompatibility(Array(contents))
            case Q931ElementIdentifier.callState: return .callState(try CallStateElement(contents: contents))
            case Q931ElementIdentifier.restartIndicator: return .restartIndicator(try RestartIndicator(contents: contents))
            case Q931ElementIdentifier.notificationIndicator:
                return .notificationIndicator(try NotificationIndicator(contents: contents))
            case Q931ElementIdentifier.facility: return .facility(Array(contents))
            case Q931ElementIdentifier.callIdentity: return .callIdentity(Array(contents))
            default:
                return .unrecognized(RawInformationElement(codeset: 0, identifier: identifier, contents: Array(contents)))
            }
        } catch {
            return .invalid(RawInformationElement(codeset: 0, identifier: identifier, contents: Array(contents)), error)
        }
    }

    /// Appends the element as it lies in a message: a non-locking shift first when it is
    /// outside codeset 0, then identifier, length and contents (or the single octet). One
    /// switch over the element does it all, the identifier a constant in each case: working
    /// out identifier and codeset first took two more switches per element. Always inlined:
    /// called on an element in the message's buffer, it was first copied out (through the
    /// enum's value witnesses) as a call.
    @inline(__always)
    func encode<Sink: Q931OctetSink>(into buffer: inout Sink) throws(Q931EncodingError) {
        switch self {
        case .bearerCapability(let value):
            if let word = value.shortElementWord {
                buffer.append(word: word, count: 5)
                return
            }
            let at = Self.beginContents(Q931ElementIdentifier.bearerCapability, &buffer)
            value.encodeContents(into: &buffer)
            try Self.endContents(Q931ElementIdentifier.bearerCapability, at, &buffer)
        case .channelIdentification(let value):
            if let word = value.singleChannelElementWord {
                buffer.append(word: word, count: 5)
                return
            }
            let at = Self.beginContents(Q931ElementIdentifier.channelIdentification, &buffer)
            value.encodeContents(into: &buffer)
            try Self.endContents(Q931ElementIdentifier.channelIdentification, at, &buffer)
        case .callingPartyNumber(let value):
            try Self.encodeNumber(Q931ElementIdentifier.callingPartyNumber, value, &buffer)
        case .calledPartyNumber(let value):
            try Self.encodeNumber(Q931ElementIdentifier.calledPartyNumber, value, &buffer)
        case .connectedNumber(let value):
            try Self.encodeNumber(Q931ElementIdentifier.connectedNumber, value, &buffer)
        case .redirectingNumber(let value):
            try Self.encodeNumber(Q931ElementIdentifier.redirectingNumber, value, &buffer)
        case .cause(let value):
            if let word = value.plainElementWord {
                buffer.append(word: word, count: 4)
                return
            }
            let at = Self.beginContents(Q931ElementIdentifier.cause, &buffer)
            value.encodeContents(into: &buffer)
            try Self.endContents(Q931ElementIdentifier.cause, at, &buffer)
        case .progressIndicator(let value):
            let at = Self.beginContents(Q931ElementIdentifier.progressIndicator, &buffer)
            value.encodeContents(into: &buffer)
            try Self.endContents(Q931ElementIdentifier.progressIndicator, at, &buffer)
        case .display(let octets):
            try Self.encodeOctets(Q931ElementIdentifier.display, octets, &buffer)
        case .keypadFacility(let octets):
            try Self.encodeOctets(Q931ElementIdentifier.keypadFacility, octets, &buffer)
        case .lowLayerCompatibility(let octets):
            try Self.encodeOctets(Q931ElementIdentifier.lowLayerCompatibility, octets, &buffer)
        case .facility(let octets):
            try Self.encodeOctets(Q931ElementIdentifier.facility, octets, &buffer)
        case .callIdentity(let octets):
            try Self.encodeOctets(Q931ElementIdentifier.callIdentity, octets, &buffer)
        case .sendingComplete:
            buffer.append(Q931ElementIdentifier.sendingComplete)
        case .dateTime(let value):
            let at = Self.beginContents(Q931ElementIdentifier.dateTime, &buffer)
            value.encodeContents(into: &buffer)
            try Self.endContents(Q931ElementIdentifier.dateTime, at, &buffer)
        case .highLayerCompatibility(let value):
            let at = Self.beginContents(Q931ElementIdentifier.highLayerCompatibility, &buffer)
            value.encodeContents(into: &buffer)
            try Self.endContents(Q931ElementIdentifier.highLayerCompatibility, at, &buffer)
        case .callState(let value):
            let at = Self.beginContents(Q931ElementIdentifier.callState, &buffer)
            value.encodeContents(into: &buffer)
            try Self.endContents(Q931ElementIdentifier.callState, at, &buffer)
        case .restartIndicator(let value):
            let at = Self.beginContents(Q931ElementIdentifier.restartIndicator, &buffer)
            value.encodeContents(into: &buffer)
            try Self.endContents(Q931ElementIdentifier.restartIndicator, at, &buffer)
        case .notificationIndicator(let value):
            let at = Self.beginContents(Q931ElementIdentifier.notificationIndicator, &buffer)
            value.encodeContents(into: &buffer)
            try Self.endContents(Q931ElementIdentifier.notificationIndicator, at, &buffer)
        case .unrecognized(let raw), .invalid(let raw, _):
            guard raw.codeset <= 7 else { throw .invalidCodeset(raw.codeset) }
            if raw.codeset != 0 {
                buffer.append(0x98 | raw.codeset)
            }
            if raw.isSingleOctet {
                buffer.append(raw.identifier)
            } else {
                try Self.encodeOctets(raw.identifier, raw.contents, &buffer)
            }
        }
    }

    /// Writes identifier and a length octet to patch; returns where the length octet is.
    @inline(__always)
    private static func beginContents<Sink: Q931OctetSink>(_ identifier: UInt8, _ buffer: inout Sink) -> Int {
        buffer.append(identifier)
        let lengthIndex = buffer.count
        buffer.append(0)
        return lengthIndex
    }

    /// Patches the length octet at `lengthIndex` with the length of the contents after it.
    @inline(__always)
    private static func endContents<Sink: Q931OctetSink>(
        _ identifier: UInt8, _ lengthIndex: Int, _ buffer: inout Sink
    ) throws(Q931EncodingError) {
        let length = buffer.count - lengthIndex - 1
        guard length <= 255 else {
            buffer.removeOctets(from: lengthIndex - 1)
            throw .elementTooLong(identifier: identifier, length: length)
        }
        // Negative only in a fixed buffer that overflowed before the length octet, which then
        // lies past the end and the patch is dropped.
        buffer[lengthIndex] = UInt8(truncatingIfNeeded: length)
    }

    @inline(__always)
    private static func encodeNumber<Sink: Q931OctetSink>(
        _ identifier: UInt8, _ number: borrowing PartyNumber, _ buffer: inout Sink
    ) throws(Q931EncodingError) {
        let at = beginContents(identifier, &buffer)
        number.encodeContents(into: &buffer)
        try endContents(identifier, at, &buffer)
    }

    @inline(__always)
    private static func encodeOctets<Sink: Q931OctetSink>(
        _ identifier: UInt8, _ octets: borrowing [UInt8], _ buffer: inout Sink
    ) throws(Q931EncodingError) {
        let at = beginContents(identifier, &buffer)
        buffer.append(contentsOf: octets)
        try endContents(identifier, at, &buffer)
    }
}
