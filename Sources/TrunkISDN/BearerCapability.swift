/// Bearer capability information element (Q.931 §4.5.5): what kind of connection is asked for.
public struct BearerCapability: Hashable, Sendable {
    /// Coding standard: 0 = ITU-T, 2 = national, 3 = network specific.
    public var codingStandard: UInt8
    public var transferCapability: TransferCapability
    /// Transfer mode: 0 = circuit, 2 = packet.
    public var transferMode: UInt8
    public var transferRate: TransferRate
    /// Octet 4.1, present only when `transferRate` is `.multirate`.
    public var rateMultiplier: UInt8?
    /// User information layer 1 protocol (octet 5), e.g. `.g711ALaw`.
    public var userInformationLayer1: UserInformationLayer1?
    /// Octets 5a-5d as received (rate adaption details), each with its extension bit.
    public var layer1Extension: [UInt8]
    /// Octets 6 and 7 (layer 2 and layer 3 protocols) as received.
    public var trailingOctets: [UInt8]

    public init(
        codingStandard: UInt8 = 0,
        transferCapability: TransferCapability,
        transferMode: UInt8 = 0,
        transferRate: TransferRate = .kbit64,
        rateMultiplier: UInt8? = nil,
        userInformationLayer1: UserInformationLayer1? = nil,
        layer1Extension: [UInt8] = [],
        trailingOctets: [UInt8] = []
    ) {
        self.codingStandard = codingStandard & 0x03
        self.transferCapability = transferCapability
        self.transferMode = transferMode & 0x03
        self.transferRate = transferRate
        self.rateMultiplier = rateMultiplier
        self.userInformationLayer1 = userInformationLayer1
        self.layer1Extension = layer1Extension
        self.trailingOctets = trailingOctets
    }

    /// Speech over A-law, what a call center trunk in Europe or China asks for.
    public static let speechALaw = BearerCapability(transferCapability: .speech, userInformationLayer1: .g711ALaw)
    /// 3.1 kHz audio over A-law (fax and modems).
    public static let audio31kHzALaw = BearerCapability(transferCapability: .audio3_1kHz, userInformationLayer1: .g711ALaw)
    /// 64 kbit/s unrestricted digital data.
    public static let unrestrictedDigital = BearerCapability(transferCapability: .unrestrictedDigital)

    public struct TransferCapability: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue & 0x1F }
        public static let speech = TransferCapability(rawValue: 0x00)
        public static let unrestrictedDigital = TransferCapability(rawValue: 0x08)
        public static let restrictedDigital = TransferCapability(rawValue: 0x09)
        public static let audio3_1kHz = TransferCapability(rawValue: 0x10)
        public static let unrestrictedDigitalWithTones = TransferCapability(rawValue: 0x11)
        public static let video = TransferCapability(rawValue: 0x18)
    }

    public struct TransferRate: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue & 0x1F }
        public static let packetMode = TransferRate(rawValue: 0x00)
        public static let kbit64 = TransferRate(rawValue: 0x10)
        public static let kbit2x64 = TransferRate(rawValue: 0x11)
        public static let kbit384 = TransferRate(rawValue: 0x13)
        public static let kbit1536 = TransferRate(rawValue: 0x15)
        public static let kbit1920 = TransferRate(rawValue: 0x17)
        public static let multirate = TransferRate(rawValue: 0x18)
    }

    public struct UserInformationLayer1: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue & 0x1F }
        public static let v110 = UserInformationLayer1(rawValue: 0x01)
        public static let g711MuLaw = UserInformationLayer1(rawValue: 0x02)
        public static let g711ALaw = UserInformationLayer1(rawValue: 0x03)
        public static let g721 = UserInformationLayer1(rawValue: 0x04)
        public static let h221 = UserInformationLayer1(rawValue: 0x05)
        public static let nonCCITT = UserInformationLayer1(rawValue: 0x07)
        public static let v120 = UserInformationLayer1(rawValue: 0x08)
        public static let x31 = UserInformationLayer1(rawValue: 0x09)
    }

    init(contents: ArraySlice<UInt8>) throws(Q931ElementError) {
        var reader = ByteReader(contents)
        guard let octet3 = reader.readByte(), let octet4 = reader.readByte() else { throw .truncated }
        guard octet3 & 0x80 != 0 else { throw .invalidField("bearer capability octet 3 extension") }
        guard octet4 & 0x80 != 0 else { throw .invalidField("bearer capability octet 4 extension") }
        codingStandard = (octet3 >> 5) & 0x03
        transferCapability = TransferCapability(rawValue: octet3)
        transferMode = (octet4 >> 5) & 0x03
        transferRate = TransferRate(rawValue: octet4)
        rateMultiplier = nil
        if transferRate == .multirate {
            guard let multiplier = reader.readByte() else { throw .truncated }
            rateMultiplier = multiplier & 0x7F
        }
        userInformationLayer1 = nil
        layer1Extension = []
        // Octet 5 is recognised by its layer identification bits 01.
        if let octet5 = reader.peek(), (octet5 >> 5) & 0x03 == 0x01 {
            _ = reader.readByte()
            userInformationLayer1 = UserInformationLayer1(rawValue: octet5)
            var extended = octet5 & 0x80 == 0
            while extended {
                guard let next = reader.readByte() else { throw .truncated }
                layer1Extension.append(next)
                extended = next & 0x80 == 0
            }
        }
        trailingOctets = reader.isAtEnd ? [] : Array(reader.readRest())
    }

    func encodeContents<Sink: Q931OctetSink>(into buffer: inout Sink) {
        buffer.append(0x80 | (codingStandard << 5) | transferCapability.rawValue)
        buffer.append(0x80 | (transferMode << 5) | transferRate.rawValue)
        if transferRate == .multirate {
            buffer.append(0x80 | ((rateMultiplier ?? 1) & 0x7F))
        }
        if let layer1 = userInformationLayer1 {
            buffer.append((layer1Extension.isEmpty ? 0x80 : 0x00) | 0x20 | layer1.rawValue)
            buffer.append(contentsOf: layer1Extension)
        }
        buffer.append(contentsOf: trailingOctets)
    }
}
