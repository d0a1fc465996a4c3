/// Channel identification information element (Q.931 §4.5.13): which B-channel a call uses.
public struct ChannelIdentification: Hashable, Sendable {
    public enum InterfaceType: Hashable, Sendable {
        case basic
        /// Any interface other than basic; on E1 this is the primary rate interface.
        case primary
    }

    /// Which channel is meant, as the information channel selection field and octets 3.2/3.3 say.
    public enum Selection: Hashable, Sendable {
        case noChannel
        case anyChannel
        /// Basic interface B1 or B2 (selection bits 01 or 10).
        case basicChannel(UInt8)
        /// Primary interface: channel numbers (E1 time slots 1-15, 17-31).
        case channelNumbers(ChannelOctets)
        /// Primary interface: a slot map, as received.
        case slotMap(ChannelOctets)

        /// Channel numbers from an array; more than 31 traps.
        public static func channelNumbers(_ numbers: [UInt8]) -> Selection {
            .channelNumbers(ChannelIdentification.inline(numbers, "channel numbers"))
        }

        /// A slot map from an array; more than 31 octets trap.
        public static func slotMap(_ map: [UInt8]) -> Selection {
            .slotMap(ChannelIdentification.inline(map, "slot map octets"))
        }
    }

    /// A channel list or slot map, up to 31 octets inline so that copying the element retains
    /// nothing. A PRI names at most 31 channels (E1) and its slot map takes 4 octets; a
    /// received element with more is an element with content error.
    public typealias ChannelOctets = Q931InlineOctets<4>
    /// Octets 3.1: one in practice (NFAS), up to 7 allowed.
    public typealias InterfaceIdentifierOctets = Q931InlineOctets<1>

    // The two inline runs first: the flags after them fill what would otherwise be padding,
    // and every octet here is copied with each element.
    /// Octets 3.1 when the interface is identified explicitly, each with its extension bit;
    /// empty when it is implicit (an explicit identifier has at least one octet).
    public var interfaceIdentifierOctets: InterfaceIdentifierOctets
    public var selection: Selection
    public var interfaceType: InterfaceType
    /// Exclusive ("only this channel") rather than preferred.
    public var exclusive: Bool
    /// The D-channel is indicated.
    public var dChannel: Bool
    /// Octet 3.2 coding standard (0 = ITU-T).
    public var codingStandard: UInt8
    /// Octet 3.2 channel type (3 = B-channel units).
    public var channelType: UInt8

    public init(
        interfaceType: InterfaceType = .primary,
        exclusive: Bool,
        dChannel: Bool = false,
        interfaceIdentifier: [UInt8]? = nil,
        selection: Selection,
        codingStandard: UInt8 = 0,
        channelType: UInt8 = 3
    ) {
        self.interfaceType = interfaceType
        self.exclusive = exclusive
        self.dChannel = dChannel
        self.interfaceIdentifierOctets = Self.inline(interfaceIdentifier ?? [], "interface identifier octets")
        self.selection = selection
        self.codingStandard = codingStandard & 0x03
        self.channelType = channelType & 0x0F
    }

    /// Octets 3.1 as an array, nil when the interface is implicit (an empty array sets it
    /// implicit too). Setting more than 7 traps.
    public var interfaceIdentifier: [UInt8]? {
        get { interfaceIdentifierOctets.isEmpty ? nil : interfaceIdentifierOctets.array }
        set { interfaceIdentifierOctets = Self.inline(newValue ?? [], "interface identifier octets") }
    }

    /// One B-channel on this primary rate interface.
    public static func primary(channel: UInt8, exclusive: Bool) -> ChannelIdentification {
        var numbers = ChannelOctets()
        numbers.append(channel)
        return ChannelIdentification(exclusive: exclusive, selection: .channelNumbers(numbers))
    }

    fileprivate static func inline<let words: Int>(_ octets: [UInt8], _ field: StaticString) -> Q931InlineOctets<words> {
        guard let inline = Q931InlineOctets<words>(octets) else {
            preconditionFailure("channel identification: \(octets.count) \(field), at most \(Q931InlineOctets<words>.maximumCount) fit")
        }
        return inline
    }

    /// The first channel number named, if any.
    public var channelNumber: UInt8? {
        switch selection {
        case .channelNumbers(let numbers): return numbers.first
        case .basicChannel(let number): return number
        default: return nil
        }
    }

    init(contents: UnsafeBufferPointer<UInt8>) throws(Q931ElementError) {
        // What nearly every PRI message carries: one B-channel by number, interface implicit
        // (octet 3 with selection 01 and no interface identifier, 3.2 without the map bit,
        // 3.3 the last octet). The general decoding below gives the same value.
        if contents.count == 3 {
            let octet3 = contents[0], octet32 = contents[1], octet33 = contents[2]
            if octet3 & 0xE3 == 0xA1, octet32 & 0x90 == 0x80, octet33 & 0x80 != 0 {
                var numbers = ChannelOctets()
                numbers.append(octet33 & 0x7F)
                self.init(exclusive: octet3 & 0x08 != 0, dChannel: octet3 & 0x04 != 0, numbers: numbers,
                          codingStandard: (octet32 >> 5) & 0x03, channelType: octet32 & 0x0F)
                return
            }
        }
        try self.init(decoding: contents)
    }

    /// A primary interface's channel numbers, interface implicit.
    private init(exclusive: Bool, dChannel: Bool, numbers: ChannelOctets, codingStandard: UInt8, channelType: UInt8) {
        interfaceIdentifierOctets = InterfaceIdentifierOctets()
        selection = .channelNumbers(numbers)
        interfaceType = .primary
        self.exclusive = exclusive
        self.dChannel = dChannel
        self.codingStandard = codingStandard
        self.channelType = channelType
    }

    /// The general decoding, for any channel identification.
    init(decoding contents: UnsafeBufferPointer<UInt8>) throws(Q931ElementError) {
        var reader = BufferReader(contents)
        guard let octet3 = reader.readByte() else { throw .truncated }
        guard octet3 & 0x80 != 0 else { throw .invalidField("channel identification octet 3 extension") }
        interfaceType = octet3 & 0x20 != 0 ? .primary : .basic
        exclusive = octet3 & 0x08 != 0
        dChannel = octet3 & 0x04 != 0
        codingStandard = 0
        channelType = 3
        interfaceIdentifierOctets = InterfaceIdentifierOctets()
        if octet3 & 0x40 != 0 {
            var identifier = InterfaceIdentifierOctets()
            var next: UInt8
            repeat {
                guard let octet = reader.readByte() else { throw .truncated }
                guard identifier.append(octet) else {
                    throw .invalidField("channel identification: interface identifier longer than \(InterfaceIdentifierOctets.maximumCount) octets")
                }
                next = octet
            } while next & 0x80 == 0
            interfaceIdentifierOctets = identifier
        }
        let selectionBits = octet3 & 0x03
        switch (interfaceType, selectionBits) {
        case (_, 0):
            selection = .noChannel
        case (_, 3):
            selection = .anyChannel
        case (.basic, let bits):
            selection = .basicChannel(bits)
        case (.primary, 1):
            guard let octet32 = reader.readByte() else { throw .truncated }
            guard octet32 & 0x80 != 0 else { throw .invalidField("channel identification octet 3.2 extension") }
            codingStandard = (octet32 >> 5) & 0x03
            channelType = octet32 & 0x0F
            if octet32 & 0x10 != 0 {
                let rest = reader.readRest()
                guard !rest.isEmpty else { throw .truncated }
                guard let map = ChannelOctets(rest) else {
                    throw .invalidField("channel identification: slot map of \(rest.count) octets, at most \(ChannelOctets.maximumCount)")
                }
                selection = .slotMap(map)
            } else {
                var numbers = ChannelOctets()
                var more = true
                while more {
                    guard let octet = reader.readByte() else { throw .truncated }
                    guard numbers.append(octet & 0x7F) else {
                        throw .invalidField("channel identification: more than \(ChannelOctets.maximumCount) channel numbers")
                    }
                    more = octet & 0x80 == 0
                }
                selection = .channelNumbers(numbers)
            }
        default:
            throw .invalidField("channel selection \(selectionBits) on primary interface")
        }
    }

    /// The whole element (identifier, length 3, octets 3, 3.2, 3.3) in one word when it names
    /// one B-channel by number with the interface implicit, the usual case; nil otherwise.
    /// The same octets `encodeContents` writes, in one store instead of five checked appends.
    var singleChannelElementWord: UInt64? {
        guard interfaceType == .primary, interfaceIdentifierOctets.isEmpty, case .channelNumbers(let numbers) = selection,
              numbers.count == 1, let number = numbers.first else { return nil }
        let octet3 = UInt64(0xA1 | (exclusive ? 0x08 : 0) | (dChannel ? 0x04 : 0))
        let octet32 = UInt64(0x80 | (codingStandard << 5) | channelType)
        return UInt64(Q931ElementIdentifier.channelIdentification) | 3 << 8 | octet3 << 16 | octet32 << 24
            | UInt64(0x80 | number) << 32
    }

    func encodeContents<Sink: Q931OctetSink>(into buffer: inout Sink) {
        // One B-channel by number, interface implicit: the octets the general path below
        // writes for it, without its two passes over the selection.
        if interfaceType == .primary, interfaceIdentifierOctets.isEmpty, case .channelNumbers(let numbers) = selection,
           numbers.count == 1, let number = numbers.first {
            buffer.append(0xA1 | (exclusive ? 0x08 : 0) | (dChannel ? 0x04 : 0))
            buffer.append(0x80 | (codingStandard << 5) | channelType)
            buffer.append(0x80 | number)
            return
        }
        var octet3: UInt8 = 0x80
        if !interfaceIdentifierOctets.isEmpty { octet3 |= 0x40 }
        if interfaceType == .primary { octet3 |= 0x20 }
        if exclusive { octet3 |= 0x08 }
        if dChannel { octet3 |= 0x04 }
        switch selection {
        case .noChannel: break
        case .anyChannel: octet3 |= 0x03
        case .basicChannel(let number): octet3 |= number & 0x03
        case .channelNumbers, .slotMap: octet3 |= 0x01
        }
        buffer.append(octet3)
        interfaceIdentifierOctets.encode(into: &buffer)
        switch selection {
        case .channelNumbers(let numbers):
            buffer.append(0x80 | (codingStandard << 5) | channelType)
            // Each number but the last has its extension bit clear.
            if let last = numbers.last {
                for index in 0..<(numbers.count - 1) {
                    buffer.append(numbers[index] & 0x7F)
                }
                buffer.append(0x80 | last)
            }
        case .slotMap(let map):
            buffer.append(0x80 | (codingStandard << 5) | 0x10 | channelType)
            map.encode(into: &buffer)
        default:
            break
        }
    }
}
