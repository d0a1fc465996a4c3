// Information elements with a fixed, small layout.

/// Progress indicator (Q.931 §4.5.23): interworking and in-band information.
public struct ProgressIndicator: Hashable, Sendable {
    public var codingStandard: UInt8
    public var locationCode: UInt8
    public var description: ProgressDescription

    public init(_ description: ProgressDescription, location: Q850Cause.Location, codingStandard: UInt8 = 0) {
        self.description = description
        self.locationCode = location.rawValue
        self.codingStandard = codingStandard & 0x03
    }

    public struct ProgressDescription: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue & 0x7F }
        public static let notEndToEndISDN = ProgressDescription(rawValue: 1)
        public static let destinationNotISDN = ProgressDescription(rawValue: 2)
        public static let originationNotISDN = ProgressDescription(rawValue: 3)
        public static let returnedToISDN = ProgressDescription(rawValue: 4)
        public static let interworkingChange = ProgressDescription(rawValue: 5)
        /// In-band information or an appropriate pattern is now available: connect the audio.
        public static let inBandInformationAvailable = ProgressDescription(rawValue: 8)
    }

    init(contents: UnsafeBufferPointer<UInt8>) throws(Q931ElementError) {
        guard contents.count >= 2 else { throw .truncated }
        let octet3 = contents[contents.startIndex], octet4 = contents[contents.startIndex + 1]
        codingStandard = (octet3 >> 5) & 0x03
        locationCode = octet3 & 0x0F
        description = ProgressDescription(rawValue: octet4)
    }

    func encodeContents<Sink: Q931OctetSink>(into buffer: inout Sink) {
        buffer.append(0x80 | (codingStandard << 5) | (locationCode & 0x0F))
        buffer.append(0x80 | description.rawValue)
    }
}

/// Date/time (Q.931 §4.5.15), as the network sends it in CONNECT.
public struct DateTimeElement: Hashable, Sendable {
    /// Year within the century, 0...99, as coded.
    public var year: UInt8
    public var month: UInt8
    public var day: UInt8
    public var hour: UInt8?
    public var minute: UInt8?
    public var second: UInt8?

    public init(year: UInt8, month: UInt8, day: UInt8, hour: UInt8? = nil, minute: UInt8? = nil, second: UInt8? = nil) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    init(contents: UnsafeBufferPointer<UInt8>) throws(Q931ElementError) {
        var reader = BufferReader(contents)
        guard let year = reader.readByte(), let month = reader.readByte(), let day = reader.readByte() else { throw .truncated }
        self.year = year
        self.month = month
        self.day = day
        hour = reader.readByte()
        minute = reader.readByte()
        second = reader.readByte()
    }

    func encodeContents<Sink: Q931OctetSink>(into buffer: inout Sink) {
        buffer.append(year)
        buffer.append(month)
        buffer.append(day)
        // Later fields only make sense after the earlier ones.
        guard let hour else { return }
        buffer.append(hour)
        guard let minute else { return }
        buffer.append(minute)
        guard let second else { return }
        buffer.append(second)
    }
}

/// High layer compatibility (Q.931 §4.5.17): telephony, fax group 3 and the like.
public struct HighLayerCompatibility: Hashable, Sendable {
    public var codingStandard: UInt8
    public var interpretation: UInt8
    public var presentationMethod: UInt8
    /// High layer characteristics identification (octet 4), e.g. 0x01 telephony, 0x04 fax G2/G3.
    public var characteristics: UInt8
    /// Octet 4a, extended characteristics, when octet 4 says one follows.
    public var extendedCharacteristics: UInt8?

    public init(characteristics: UInt8, codingStandard: UInt8 = 0, interpretation: UInt8 = 4, presentationMethod: UInt8 = 1, extendedCharacteristics: UInt8? = nil) {
        self.codingStandard = codingStandard & 0x03
        self.interpretation = interpretation & 0x07
        self.presentationMethod = presentationMethod & 0x03
        self.characteristics = characteristics & 0x7F
        self.extendedCharacteristics = extendedCharacteristics.map { $0 & 0x7F }
    }

    public static let telephony = HighLayerCompatibility(characteristics: 0x01)

    init(contents: UnsafeBufferPointer<UInt8>) throws(Q931ElementError) {
        var reader = BufferReader(contents)
        guard let octet3 = reader.readByte(), let octet4 = reader.readByte() else { throw .truncated }
        codingStandard = (octet3 >> 5) & 0x03
        interpretation = (octet3 >> 2) & 0x07
        presentationMethod = octet3 & 0x03
        characteristics = octet4 & 0x7F
        extendedCharacteristics = nil
        if octet4 & 0x80 == 0 {
            guard let octet4a = reader.readByte() else { throw .truncated }
            extendedCharacteristics = octet4a & 0x7F
        }
    }

    func encodeContents<Sink: Q931OctetSink>(into buffer: inout Sink) {
        buffer.append(0x80 | (codingStandard << 5) | (interpretation << 2) | presentationMethod)
        if let extendedCharacteristics {
            buffer.append(characteristics)
            buffer.append(0x80 | extendedCharacteristics)
        } else {
            buffer.append(0x80 | characteristics)
        }
    }
}

/// Call state (Q.931 §4.5.7), carried in STATUS.
public struct CallStateElement: Hashable, Sendable {
    public var codingStandard: UInt8
    /// The state number (U0...U25 / N0...N25), 6 bits.
    public var value: UInt8

    public init(value: UInt8, codingStandard: UInt8 = 0) {
        self.value = value & 0x3F
        self.codingStandard = codingStandard & 0x03
    }

    init(contents: UnsafeBufferPointer<UInt8>) throws(Q931ElementError) {
        guard let octet3 = contents.first else { throw .truncated }
        codingStandard = octet3 >> 6
        value = octet3 & 0x3F
    }

    func encodeContents<Sink: Q931OctetSink>(into buffer: inout Sink) {
        buffer.append((codingStandard << 6) | value)
    }
}

/// Restart indicator (Q.931 §4.5.25): what a RESTART covers.
public struct RestartIndicator: Hashable, Sendable {
    public var restartClass: RestartClass

    public init(_ restartClass: RestartClass) {
        self.restartClass = restartClass
    }

    public enum RestartClass: UInt8, Hashable, Sendable {
        /// The channels named in the accompanying channel identification.
        case indicatedChannels = 0
        case singleInterface = 6
        case allInterfaces = 7
    }

    init(contents: UnsafeBufferPointer<UInt8>) throws(Q931ElementError) {
        guard let octet3 = contents.first else { throw .truncated }
        guard let restartClass = RestartClass(rawValue: octet3 & 0x07) else {
            throw .invalidField("restart class \(octet3 & 0x07)")
        }
        self.restartClass = restartClass
    }

    func encodeContents<Sink: Q931OctetSink>(into buffer: inout Sink) {
        buffer.append(0x80 | restartClass.rawValue)
    }
}

/// Notification indicator (Q.931 §4.5.22): user suspended/resumed, bearer change and the like.
public struct NotificationIndicator: Hashable, Sendable {
    /// Notification description, 7 bits (0 user suspended, 1 user resumed, 2 bearer service change).
    public var description: UInt8
    /// Further octets (supplementary service notifications) as received.
    public var extraOctets: [UInt8]

    public init(description: UInt8, extraOctets: [UInt8] = []) {
        self.description = description & 0x7F
        self.extraOctets = extraOctets
    }

    init(contents: UnsafeBufferPointer<UInt8>) throws(Q931ElementError) {
        guard let octet3 = contents.first else { throw .truncated }
        description = octet3 & 0x7F
        extraOctets = Array(contents.dropFirst())
    }

    func encodeContents<Sink: Q931OctetSink>(into buffer: inout Sink) {
        buffer.append(0x80 | description)
        buffer.append(contentsOf: extraOctets)
    }
}
