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
        case channelNumbers([UInt8])
        /// Primary interface: a slot map, as received.
        case slotMap([UInt8])
    }

    public var interfaceType: InterfaceType
    /// Exclusive ("only this channel") rather than preferred.
    public var exclusive: Bool
    /// The D-channel is indicated.
    public var dChannel: Bool
    /// Octets 3.1 when the interface is identified explicitly, each with its extension bit.
    public var interfaceIdentifier: [UInt8]?
    public var selection: Selection
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
        self.interfaceIdentifier = interfaceIdentifier
        self.selection = selection
        self.codingStandard = codingStandard & 0x03
        self.channelType = channelType & 0x0F
    }

    /// One B-channel on this primary rate interface.
    public static func primary(channel: UInt8, exclusive: Bool) -> ChannelIdentification {
        ChannelIdentification(exclusive: exclusive, selection: .channelNumbers(singleChannel(channel)))
    }

    /// One-element arrays for every channel number, shared so that naming one channel (as
    /// nearly every PRI message does) allocates nothing.
    private static let singleChannelArrays: [[UInt8]] = (0...255).map { [UInt8($0)] }

    static func singleChannel(_ channel: UInt8) -> [UInt8] {
        singleChannelArrays[Int(channel)]
    }

    /// The first channel number named, if any.
    public var channelNumber: UInt8? {
        switch selection {
        case .channelNumbers(let numbers): return numbers.first
        case .basicChannel(let number): return number
        default: return nil
        }
    }

    init(contents: ArraySlice<UInt8>) throws(Q931ElementError) {
        var reader = ByteReader(contents)
        guard let octet3 = reader.readByte() else { throw .truncated }
        guard octet3 & 0x80 != 0 else { throw .invalidField("channel identification octet 3 extension") }
        interfaceType = octet3 & 0x20 != 0 ? .primary : .basic
        exclusive = octet3 & 0x08 != 0
        dChannel = octet3 & 0x04 != 0
        codingStandard = 0
        channelType = 3
        interfaceIdentifier = nil
        if octet3 & 0x40 != 0 {
            var identifier: [UInt8] = []
            repeat {
                guard let next = reader.readByte() else { throw .truncated }
                identifier.append(next)
            } while identifier.last! & 0x80 == 0
            interfaceIdentifier = identifier
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
                let map = reader.readRest()
                guard !map.isEmpty else { throw .truncated }
                selection = .slotMap(Array(map))
            } else {
                guard let first = reader.readByte() else { throw .truncated }
                if first & 0x80 != 0 {
                    selection = .channelNumbers(Self.singleChannel(first & 0x7F))
                } else {
                    var numbers: [UInt8] = [first & 0x7F]
                    var more = true
                    while more {
                        guard let octet = reader.readByte() else { throw .truncated }
                        numbers.append(octet & 0x7F)
                        more = octet & 0x80 == 0
                    }
                    selection = .channelNumbers(numbers)
                }
            }
        default:
            throw .invalidField("channel selection \(selectionBits) on primary interface")
        }
    }

    func encodeContents<Sink: Q931OctetSink>(into buffer: inout Sink) {
        var octet3: UInt8 = 0x80
        if interfaceIdentifier != nil { octet3 |= 0x40 }
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
        if let identifier = interfaceIdentifier {
            buffer.append(contentsOf: identifier)
        }
        switch selection {
        case .channelNumbers(let numbers):
            buffer.append(0x80 | (codingStandard << 5) | channelType)
            for (index, number) in numbers.enumerated() {
                buffer.append((number & 0x7F) | (index == numbers.count - 1 ? 0x80 : 0x00))
            }
        case .slotMap(let map):
            buffer.append(0x80 | (codingStandard << 5) | 0x10 | channelType)
            buffer.append(contentsOf: map)
        default:
            break
        }
    }
}
