/// Why received octets are not a Q.931 message (Q.931 §5.8.1-§5.8.2 say such messages are ignored).
public enum Q931DecodingError: Error, Hashable, Sendable {
    case empty
    case unsupportedProtocolDiscriminator(UInt8)
    /// The call reference length octet is not 0, 1 or 2 (or its spare bits are set).
    case invalidCallReferenceLength(UInt8)
    /// The message ends inside the header.
    case truncatedHeader
    /// Bit 8 of the message type octet is set.
    case invalidMessageType(UInt8)
    /// A variable-length element's length runs past the end of the message.
    case truncatedElement(identifier: UInt8)
}

/// A Q.931 message: header plus information elements in order of appearance.
public struct Q931Message: Hashable, Sendable {
    /// Protocol discriminator for Q.931 user-network call control.
    public static let callControlProtocolDiscriminator: UInt8 = 0x08
    /// Protocol discriminator of national maintenance messages (SERVICE, SERVICE ACKNOWLEDGE).
    public static let maintenanceProtocolDiscriminator: UInt8 = 0x03

    public var protocolDiscriminator: UInt8
    public var callReference: Q931CallReference
    public var messageType: Q931MessageType
    public var informationElements: [Q931InformationElement]

    public init(
        _ messageType: Q931MessageType,
        callReference: Q931CallReference,
        informationElements: [Q931InformationElement] = [],
        protocolDiscriminator: UInt8 = Q931Message.callControlProtocolDiscriminator
    ) {
        self.messageType = messageType
        self.callReference = callReference
        self.informationElements = informationElements
        self.protocolDiscriminator = protocolDiscriminator
    }

    // MARK: - Decoding

    /// A placeholder message (dummy call reference, no elements) to decode into.
    public static let empty = Q931Message(Q931MessageType(rawValue: 0), callReference: .dummy)

    /// Decodes a message. Any octet string yields a message or a typed error.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(Q931DecodingError) -> Q931Message {
        var message = Q931Message.empty
        try decode(bytes, into: &message)
        return message
    }

    /// Decodes a message into `message`, reusing its element storage: decoding into the same
    /// value again and again does not allocate once that storage has grown to fit. On error
    /// `message` is left with no elements.
    public static func decode(_ bytes: ArraySlice<UInt8>, into message: inout Q931Message) throws(Q931DecodingError) {
        var summary = Q931ElementSummary()
        try decode(bytes, into: &message, summary: &summary)
    }

    public static func decode(_ bytes: [UInt8]) throws(Q931DecodingError) -> Q931Message {
        try decode(bytes[...])
    }

    /// `decode(_:into:)`, also noting in `summary` what checking the elements needs, so the
    /// check makes no second pass over them.
    static func decode(
        _ bytes: ArraySlice<UInt8>, into message: inout Q931Message, summary: inout Q931ElementSummary
    ) throws(Q931DecodingError) {
        // Read in place: through the slice every octet read was bounds-checked against it and
        // every element's contents became a slice retaining the frame's array.
        try bytes.withUnsafeBufferPointer { (octets) throws(Q931DecodingError) in
            try decode(octets: octets, into: &message, summary: &summary)
        }
    }

    /// `decode(_:into:summary:)` of octets the caller holds (a received frame, read in place).
    static func decode(
        octets: UnsafeBufferPointer<UInt8>, into message: inout Q931Message, summary: inout Q931ElementSummary
    ) throws(Q931DecodingError) {
        // Element by element: cheaper than the generic `removeAll(keepingCapacity:)` for the
        // handful a message has.
        // (`removeLast`, not `popLast() != nil`, which copies each out as an optional.)
        while !message.informationElements.isEmpty { message.informationElements.removeLast() }
        let failure = decode(octets, into: &message, summary: &summary)
        if let failure {
            message.informationElements.removeAll(keepingCapacity: true)
            throw failure
        }
    }

    /// The header into `message`, then the elements; the error, if the octets are not a message.
    /// Inlined into its one caller, so the message and summary are not passed on once more.
    @inline(__always)
    private static func decode(
        _ octets: UnsafeBufferPointer<UInt8>, into message: inout Q931Message, summary: inout Q931ElementSummary
    ) -> Q931DecodingError? {
        let count = octets.count
        guard count > 0 else { return .empty }
        let discriminator = octets[0]
        guard discriminator == callControlProtocolDiscriminator || discriminator == maintenanceProtocolDiscriminator else {
            return .unsupportedProtocolDiscriminator(discriminator)
        }
        guard count > 1 else { return .truncatedHeader }
        let lengthOctet = octets[1]
        guard lengthOctet <= 2 else { return .invalidCallReferenceLength(lengthOctet) }
        // The call reference and the message type octet must both be there.
        let typeIndex = 2 + Int(lengthOctet)
        guard count > typeIndex else { return .truncatedHeader }
        let callReference: Q931CallReference
        switch lengthOctet {
        case 0:
            callReference = .dummy
        case 1:
            let octet = octets[2]
            callReference = Q931CallReference(value: UInt16(octet & 0x7F), flag: octet & 0x80 != 0, length: 1)
        default:
            let high = octets[2], low = octets[3]
            callReference = Q931CallReference(
                value: (UInt16(high & 0x7F) << 8) | UInt16(low), flag: high & 0x80 != 0, length: 2)
        }
        let typeOctet = octets[typeIndex]
        guard typeOctet & 0x80 == 0 else { return .invalidMessageType(typeOctet) }
        message.messageType = Q931MessageType(rawValue: typeOctet)
        message.callReference = callReference
        message.protocolDiscriminator = discriminator
        return decodeElements(octets, from: typeIndex + 1, into: &message.informationElements, summary: &summary)
    }

    /// Inlined into the message decoder, its one caller: as a call, the elements array was
    /// reached through the message for every append.
    @inline(__always)
    private static func decodeElements(
        _ octets: UnsafeBufferPointer<UInt8>, from start: Int, into elements: inout [Q931InformationElement],
        summary: inout Q931ElementSummary
    ) -> Q931DecodingError? {
        if elements.capacity < 8 { elements.reserveCapacity(8) }
        let count = octets.count
        var index = start
        var lockedCodeset: UInt8 = 0
        var nextCodeset: UInt8?
        while index < count {
            let identifier = octets[index]
            index += 1
            let codeset = nextCodeset ?? lockedCodeset
            nextCodeset = nil
            if identifier & Q931ElementIdentifier.shiftMask == Q931ElementIdentifier.shift {
                let target = identifier & 0x07
                if identifier & 0x08 != 0 {
                    nextCodeset = target
                } else if target > lockedCodeset {
                    // Q.931 §4.5.3: a locking shift may only move to a higher codeset; others are ignored.
                    lockedCodeset = target
                }
                continue
            }
            let element: Q931InformationElement
            if identifier & 0x80 != 0 {
                element = Q931InformationElement.decode(
                    codeset: codeset, identifier: identifier, contents: UnsafeBufferPointer(start: nil, count: 0))
            } else {
                guard index < count else { return .truncatedElement(identifier: identifier) }
                let length = Int(octets[index])
                index += 1
                guard length <= count - index else { return .truncatedElement(identifier: identifier) }
                element = Q931InformationElement.decode(
                    codeset: codeset, identifier: identifier,
                    contents: UnsafeBufferPointer(rebasing: octets[index..<(index + length)]))
                index += length
            }
            if element.isRawElement {
                summary.hasRawElement = true
            } else {
                summary.present.insert(identifier)
            }
            elements.append(element)
        }
        return nil
    }

    // MARK: - Encoding

    /// Appends the encoded message to `buffer`; with enough reserved capacity this does not allocate.
    /// Elements outside codeset 0 are each preceded by a non-locking shift.
    public func encode(into buffer: inout [UInt8]) throws(Q931EncodingError) {
        try encode(to: &buffer)
    }

    /// How encoding into a fixed buffer went.
    enum InPlaceEncoding {
        /// The message took this many octets from the start of the buffer.
        case written(Int)
        /// The buffer is too small; its contents are undefined.
        case overflowed
        case failed(Q931EncodingError)
    }

    /// Encodes the message at the start of `buffer`, in place: the stack's transmit path,
    /// which spares the per-octet checks of appending to an array.
    func encode(inPlace buffer: UnsafeMutableBufferPointer<UInt8>) -> InPlaceEncoding {
        var writer = Q931OctetWriter(buffer)
        do {
            try encode(to: &writer)
        } catch {
            return .failed(error)
        }
        return writer.overflowed ? .overflowed : .written(writer.count)
    }

    private func encode<Sink: Q931OctetSink>(to buffer: inout Sink) throws(Q931EncodingError) {
        let start = buffer.count
        // The header in one word, lowest octet first: one store instead of up to five appends.
        let flag: UInt64 = callReference.flag ? 0x80 : 0
        var header = UInt64(protocolDiscriminator) | UInt64(UInt8(callReference.length)) << 8
        var headerCount = 2
        switch callReference.length {
        case 1:
            header |= (flag | UInt64(callReference.value & 0x7F)) << 16
            headerCount = 3
        case 2:
            header |= (flag | UInt64((callReference.value >> 8) & 0x7F)) << 16
            header |= UInt64(callReference.value & 0xFF) << 24
            headerCount = 4
        default:
            break
        }
        header |= UInt64(messageType.rawValue & 0x7F) << UInt64(headerCount << 3)
        buffer.append(word: header, count: headerCount + 1)
        // Three of the eight messages of a call have no elements: no call for them.
        guard !informationElements.isEmpty else { return }
        // Through the buffer, so each element is encoded where it lies: the array's subscript
        // copied it out (retaining and releasing its payload) first. Each element writes its
        // own codeset shift.
        let failure = informationElements.withUnsafeBufferPointer { elements -> Q931EncodingError? in
            for index in elements.indices {
                do throws(Q931EncodingError) {
                    try elements[index].encode(into: &buffer)
                } catch {
                    return error
                }
            }
            return nil
        }
        if let failure {
            buffer.removeOctets(from: start)
            throw failure
        }
    }

    /// The encoded message as a new array.
    public func encoded() throws(Q931EncodingError) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64)
        try encode(into: &buffer)
        return buffer
    }

    // MARK: - Element access

    /// The first element `extract` accepts, made from that element only. Elements are looked
    /// at in place, through the buffer: a `for case` loop or the array's subscript copies each
    /// one out (retaining its payload) to test it.
    @inline(__always)
    private func firstElement<T>(_ extract: (Q931InformationElement) -> T?) -> T? {
        informationElements.withUnsafeBufferPointer { elements in
            for index in elements.indices {
                if let value = extract(elements[index]) { return value }
            }
            return nil
        }
    }

    public var bearerCapability: BearerCapability? {
        firstElement { if case .bearerCapability(let value) = $0 { value } else { nil } }
    }

    public var channelIdentification: ChannelIdentification? {
        firstElement { if case .channelIdentification(let value) = $0 { value } else { nil } }
    }

    public var callingPartyNumber: PartyNumber? {
        firstElement { if case .callingPartyNumber(let value) = $0 { value } else { nil } }
    }

    public var calledPartyNumber: PartyNumber? {
        firstElement { if case .calledPartyNumber(let value) = $0 { value } else { nil } }
    }

    public var connectedNumber: PartyNumber? {
        firstElement { if case .connectedNumber(let value) = $0 { value } else { nil } }
    }

    public var redirectingNumber: PartyNumber? {
        firstElement { if case .redirectingNumber(let value) = $0 { value } else { nil } }
    }

    public var cause: CauseElement? {
        firstElement { if case .cause(let value) = $0 { value } else { nil } }
    }

    public var progressIndicators: [ProgressIndicator] {
        guard firstElement({ if case .progressIndicator = $0 { true } else { nil } }) != nil else { return [] }
        return informationElements.compactMap { if case .progressIndicator(let value) = $0 { return value } else { return nil } }
    }

    public var callState: CallStateElement? {
        firstElement { if case .callState(let value) = $0 { value } else { nil } }
    }

    public var restartIndicator: RestartIndicator? {
        firstElement { if case .restartIndicator(let value) = $0 { value } else { nil } }
    }

    public var display: String? {
        firstElement { if case .display(let value) = $0 { IA5.string(from: value) } else { nil } }
    }

    public var keypadFacility: String? {
        firstElement { if case .keypadFacility(let value) = $0 { IA5.string(from: value) } else { nil } }
    }

    public var hasSendingComplete: Bool {
        firstElement { if case .sendingComplete = $0 { true } else { nil } } ?? false
    }

    /// Elements this stack did not recognise.
    public var unrecognizedElements: [RawInformationElement] {
        informationElements.compactMap { if case .unrecognized(let raw) = $0 { return raw } else { return nil } }
    }

    /// Known elements whose contents were wrong.
    public var invalidElements: [RawInformationElement] {
        informationElements.compactMap { if case .invalid(let raw, _) = $0 { return raw } else { return nil } }
    }
}
