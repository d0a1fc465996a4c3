/// Calling, called, connected and redirecting party number elements (Q.931 §4.5.8, §4.5.10,
/// EN 300 097 connected number, Q.952 redirecting number): one shape, four identifiers.
public struct PartyNumber: Hashable, Sendable {
    public var typeOfNumber: TypeOfNumber
    public var numberingPlan: NumberingPlan
    /// Octet 3a; absent on the called party number.
    public var presentation: PresentationIndicator?
    /// Octet 3b of the redirecting number: reason for redirection (4 bits).
    public var redirectionReason: UInt8?
    /// The number digits as sent (IA5 octets), inline so that copying a number retains nothing.
    public var digitOctets: DigitOctets

    /// At most this many digits (31, what four words of inline storage hold; E.164 numbers
    /// have 15). A fifth word made call indications and actions too large to be copied in
    /// line, which cost more than all the reference counting saved. A received number with
    /// more is an element with content error (Q.931 §5.8.6, longer than the maximum length).
    public static let maximumDigitCount = DigitOctets.maximumCount
    public typealias DigitOctets = Q931InlineOctets<4>

    /// The number digits (IA5). Setting more than `maximumDigitCount` digits is a programming
    /// error and traps: check the length first.
    public var digits: String {
        get { IA5.string(from: digitOctets) }
        set { digitOctets = Self.digitOctets(newValue) }
    }

    /// A number; `digits` must have at most `maximumDigitCount` characters (it traps otherwise).
    public init(
        digits: String,
        typeOfNumber: TypeOfNumber = .unknown,
        numberingPlan: NumberingPlan = .isdn,
        presentation: PresentationIndicator? = nil,
        redirectionReason: UInt8? = nil
    ) {
        self.init(digitOctets: Self.digitOctets(digits), typeOfNumber: typeOfNumber, numberingPlan: numberingPlan,
                  presentation: presentation, redirectionReason: redirectionReason)
    }

    /// A number from its digit octets (IA5).
    public init(
        digitOctets: DigitOctets,
        typeOfNumber: TypeOfNumber = .unknown,
        numberingPlan: NumberingPlan = .isdn,
        presentation: PresentationIndicator? = nil,
        redirectionReason: UInt8? = nil
    ) {
        self.digitOctets = digitOctets
        self.typeOfNumber = typeOfNumber
        self.numberingPlan = numberingPlan
        self.presentation = presentation
        self.redirectionReason = redirectionReason
    }

    public struct TypeOfNumber: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue & 0x07 }
        public static let unknown = TypeOfNumber(rawValue: 0)
        public static let international = TypeOfNumber(rawValue: 1)
        public static let national = TypeOfNumber(rawValue: 2)
        public static let networkSpecific = TypeOfNumber(rawValue: 3)
        public static let subscriber = TypeOfNumber(rawValue: 4)
        public static let abbreviated = TypeOfNumber(rawValue: 6)
    }

    public struct NumberingPlan: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }
        public static let unknown = NumberingPlan(rawValue: 0)
        /// ISDN/telephony numbering plan (E.164).
        public static let isdn = NumberingPlan(rawValue: 1)
        public static let data = NumberingPlan(rawValue: 3)
        public static let telex = NumberingPlan(rawValue: 4)
        public static let national = NumberingPlan(rawValue: 8)
        public static let `private` = NumberingPlan(rawValue: 9)
    }

    /// Presentation and screening indicators (octet 3a), which always travel together.
    public struct PresentationIndicator: Hashable, Sendable {
        public var presentation: Presentation
        public var screening: Screening

        public init(presentation: Presentation, screening: Screening) {
            self.presentation = presentation
            self.screening = screening
        }

        public static let allowedNetworkProvided = PresentationIndicator(presentation: .allowed, screening: .networkProvided)
        public static let allowedUserNotScreened = PresentationIndicator(presentation: .allowed, screening: .userProvidedNotScreened)
    }

    public enum Presentation: UInt8, Hashable, Sendable {
        case allowed = 0
        case restricted = 1
        case notAvailable = 2
        case reserved = 3
    }

    public enum Screening: UInt8, Hashable, Sendable {
        case userProvidedNotScreened = 0
        case userProvidedVerifiedAndPassed = 1
        case userProvidedVerifiedAndFailed = 2
        case networkProvided = 3
    }

    // Inlined into the element decoder, which then builds the element in place.
    @inline(__always)
    init(contents: UnsafeBufferPointer<UInt8>) throws(Q931ElementError) {
        var reader = BufferReader(contents)
        guard let octet3 = reader.readByte() else { throw .truncated }
        typeOfNumber = TypeOfNumber(rawValue: octet3 >> 4)
        numberingPlan = NumberingPlan(rawValue: octet3)
        presentation = nil
        redirectionReason = nil
        if octet3 & 0x80 == 0 {
            guard let octet3a = reader.readByte() else { throw .truncated }
            presentation = PresentationIndicator(
                presentation: Presentation(rawValue: (octet3a >> 5) & 0x03)!,
                screening: Screening(rawValue: octet3a & 0x03)!)
            if octet3a & 0x80 == 0 {
                guard let octet3b = reader.readByte() else { throw .truncated }
                redirectionReason = octet3b & 0x0F
            }
        }
        let rest = reader.readRest()
        guard let octets = DigitOctets(rest) else {
            throw .invalidField("party number of \(rest.count) digits, at most \(Self.maximumDigitCount)")
        }
        digitOctets = octets
    }

    /// Whether `digits` fits in a party number (at most `maximumDigitCount` characters).
    public static func fits(_ digits: String) -> Bool {
        IA5.count(digits) <= maximumDigitCount
    }

    private static func digitOctets(_ digits: String) -> DigitOctets {
        guard let octets = IA5.octets(digits, as: DigitOctets.self) else {
            preconditionFailure("party number \"\(digits)\" has \(IA5.count(digits)) digits, at most \(maximumDigitCount) fit")
        }
        return octets
    }

    func encodeContents<Sink: Q931OctetSink>(into buffer: inout Sink) {
        let octet3 = (typeOfNumber.rawValue << 4) | numberingPlan.rawValue
        if let presentation {
            buffer.append(octet3)
            let octet3a = (presentation.presentation.rawValue << 5) | presentation.screening.rawValue
            if let redirectionReason {
                buffer.append(octet3a)
                buffer.append(0x80 | (redirectionReason & 0x0F))
            } else {
                buffer.append(0x80 | octet3a)
            }
        } else {
            buffer.append(0x80 | octet3)
        }
        digitOctets.encode(into: &buffer)
    }
}
