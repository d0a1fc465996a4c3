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
    /// Octets 5a-5d as received (rate adaption details), each with its extension bit; inline,
    /// so copying the element retains nothing.
    public var layer1ExtensionOctets: Layer1ExtensionOctets
    /// Octets 6 and 7 (layer 2 and layer 3 protocols, with 7a/7b) as received, inline.
    public var layer2And3Octets: TrailingOctets

    /// Up to 7 octets: octet 5 extends to 5d at most (Q.931 §4.5.5).
    public typealias Layer1ExtensionOctets = Q931InlineOctets<1>
    /// Up to 7 octets: octets 6, 7, 7a and 7b take 4. A received element with more is an
    /// element with content error (Q.931 §5.8.6: longer than the maximum length).
    public typealias TrailingOctets = Q931InlineOctets<1>

    /// Octets 5a-5d as an array. Setting more than 7 traps.
    public var layer1Extension: [UInt8] {
        get { layer1ExtensionOctets.array }
        set { layer1ExtensionOctets = Self.inline(newValue, "layer 1 extension octets") }
    }

    /// Octets 6 and 7 as an array. Setting more than 7 traps.
    public var trailingOctets: [UInt8] {
        get { layer2And3Octets.array }
        set { layer2And3Octets = Self.inline(newValue, "trailing octets") }
    }

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
        self.layer1ExtensionOctets = Self.inline(layer1Extension, "layer 1 extension octets")
        self.layer2And3Octets = Self.inline(trailingOctets, "trailing octets")
    }

    private static func inline<let words: Int>(_ octets: [UInt8], _ field: StaticString) -> Q931InlineOctets<words> {
        guard let inline = Q931InlineOctets<words>(octets) else {
            preconditionFailure("bearer capability: \(octets.count) \(field), at most \(Q931InlineOctets<words>.maximumCount) fit")
        }
        return inline
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

    // Inlined into the element decoder, which then builds the element in place.
    @inline(__always)
    init(contents: UnsafeBufferPointer<UInt8>) throws(Q931ElementError) {
        var reader = BufferReader(contents)
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
        layer1ExtensionOctets = Layer1ExtensionOctets()
        // Octet 5 is recognised by its layer identification bits 01.
        if let octet5 = reader.peek(), (octet5 >> 5) & 0x03 == 0x01 {
            _ = reader.readByte()
            userInformationLayer1 = UserInformationLayer1(rawValue: octet5)
            var extended = octet5 & 0x80 == 0
            while extended {
                guard let next = reader.readByte() else { throw .truncated }
                guard layer1ExtensionOctets.append(next) else {
                    throw .invalidField("bearer capability octet 5 extended past 5d")
                }
                extended = next & 0x80 == 0
            }
        }
        let rest = reader.readRest()
        guard let trailing = TrailingOctets(rest) else {
            throw .invalidField("bearer capability: \(rest.count) octets after octet 5, at most \(TrailingOctets.maximumCount)")
        }
        layer2And3Octets = trailing
    }

    /// The whole element (identifier, length, octets 3, 4 and 5) in one word when the rate is
    /// not multirate, layer 1 is given and nothing follows it, as in a voice call's SETUP; nil
    /// otherwise. The same octets `encodeContents` writes.
    var shortElementWord: UInt64? {
        guard transferRate != .multirate, let layer1 = userInformationLayer1, layer1ExtensionOctets.isEmpty,
              layer2And3Octets.isEmpty else { return nil }
        let octet3 = UInt64(0x80 | (codingStandard << 5) | transferCapability.rawValue)
        let octet4 = UInt64(0x80 | (transferMode << 5) | transferRate.rawValue)
        return UInt64(Q931ElementIdentifier.bearerCapability) | 3 << 8 | octet3 << 16 | octet4 << 24
            | UInt64(0x80 | 0x20 | layer1.rawValue) << 32
    }

    func encodeContents<Sink: Q931OctetSink>(into buffer: inout Sink) {
        buffer.append(0x80 | (codingStandard << 5) | transferCapability.rawValue)
        buffer.append(0x80 | (transferMode << 5) | transferRate.rawValue)
        if transferRate == .multirate {
            buffer.append(0x80 | ((rateMultiplier ?? 1) & 0x7F))
        }
        if let layer1 = userInformationLayer1 {
            buffer.append((layer1ExtensionOctets.isEmpty ? 0x80 : 0x00) | 0x20 | layer1.rawValue)
            layer1ExtensionOctets.encode(into: &buffer)
        }
        layer2And3Octets.encode(into: &buffer)
    }
}
