/// Cause information element (Q.931 §4.5.12, Q.850 §2): why a call is being cleared.
public struct CauseElement: Hashable, Sendable {
    /// Coding standard: 0 = ITU-T (Q.850), 2 = national.
    public var codingStandard: UInt8
    /// The 4-bit location field as sent; see `location` for the named value.
    public var locationCode: UInt8
    /// Octet 3a, rarely sent (0 = Q.931).
    public var recommendation: UInt8?
    public var value: Q850Cause
    /// Diagnostic octets (for cause 96/99/100 the offending element identifiers).
    public var diagnostics: [UInt8]

    public init(
        _ value: Q850Cause,
        location: Q850Cause.Location,
        codingStandard: UInt8 = 0,
        recommendation: UInt8? = nil,
        diagnostics: [UInt8] = []
    ) {
        self.value = value
        self.locationCode = location.rawValue
        self.codingStandard = codingStandard & 0x03
        self.recommendation = recommendation
        self.diagnostics = diagnostics
    }

    /// The named location, nil for values Q.850 reserves.
    public var location: Q850Cause.Location? { Q850Cause.Location(rawValue: locationCode) }

    init(contents: ArraySlice<UInt8>) throws(Q931ElementError) {
        var reader = ByteReader(contents)
        guard let octet3 = reader.readByte() else { throw .truncated }
        codingStandard = (octet3 >> 5) & 0x03
        locationCode = octet3 & 0x0F
        recommendation = nil
        if octet3 & 0x80 == 0 {
            guard let octet3a = reader.readByte() else { throw .truncated }
            recommendation = octet3a & 0x7F
        }
        guard let octet4 = reader.readByte() else { throw .truncated }
        guard octet4 & 0x80 != 0 else { throw .invalidField("cause octet 4 extension") }
        value = Q850Cause(rawValue: octet4)
        diagnostics = reader.isAtEnd ? [] : Array(reader.readRest())
    }

    func encodeContents<Sink: Q931OctetSink>(into buffer: inout Sink) {
        let octet3 = (codingStandard << 5) | (locationCode & 0x0F)
        if let recommendation {
            buffer.append(octet3)
            buffer.append(0x80 | (recommendation & 0x7F))
        } else {
            buffer.append(0x80 | octet3)
        }
        buffer.append(0x80 | value.rawValue)
        buffer.append(contentsOf: diagnostics)
    }
}
