/// Cause information element (Q.931 §4.5.12, Q.850 §2): why a call is being cleared.
public struct CauseElement: Hashable, Sendable {
    /// Coding standard: 0 = ITU-T (Q.850), 2 = national.
    public var codingStandard: UInt8
    /// The 4-bit location field as sent; see `location` for the named value.
    public var locationCode: UInt8
    /// Octet 3a, rarely sent (0 = Q.931).
    public var recommendation: UInt8?
    public var value: Q850Cause
    /// Diagnostic octets (for cause 96/99/100 the offending element identifiers), inline so
    /// that copying the element retains nothing.
    public var diagnosticOctets: DiagnosticOctets

    /// Up to 31 octets. A cause element is at most 32 octets (Q.850 §2.2.7), which leaves 28
    /// for diagnostics; a received element with more than 31 is an element with content error.
    public typealias DiagnosticOctets = Q931InlineOctets<4>

    /// The diagnostics as an array. Setting more than 31 octets traps.
    public var diagnostics: [UInt8] {
        get { diagnosticOctets.array }
        set { diagnosticOctets = Self.inline(newValue) }
    }

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
        self.diagnosticOctets = Self.inline(diagnostics)
    }

    private static func inline(_ diagnostics: [UInt8]) -> DiagnosticOctets {
        guard let octets = DiagnosticOctets(diagnostics) else {
            preconditionFailure("cause: \(diagnostics.count) diagnostic octets, at most \(DiagnosticOctets.maximumCount) fit")
        }
        return octets
    }

    /// The named location, nil for values Q.850 reserves.
    public var location: Q850Cause.Location? { Q850Cause.Location(rawValue: locationCode) }

    // Inlined into the element decoder, which then builds the element in place.
    @inline(__always)
    init(contents: UnsafeBufferPointer<UInt8>) throws(Q931ElementError) {
        var reader = BufferReader(contents)
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
        let rest = reader.readRest()
        guard let octets = DiagnosticOctets(rest) else {
            throw .invalidField("cause: \(rest.count) diagnostic octets, at most \(DiagnosticOctets.maximumCount)")
        }
        diagnosticOctets = octets
    }

    /// The whole element (identifier, length 2, octets 3 and 4) in one word when it has no
    /// recommendation and no diagnostics, as every cause a call sends by itself; nil otherwise.
    /// The same octets `encodeContents` writes.
    var plainElementWord: UInt64? {
        guard recommendation == nil, diagnosticOctets.isEmpty else { return nil }
        let octet3 = UInt64(0x80 | (codingStandard << 5) | (locationCode & 0x0F))
        return UInt64(Q931ElementIdentifier.cause) | 2 << 8 | octet3 << 16 | UInt64(0x80 | value.rawValue) << 24
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
        diagnosticOctets.encode(into: &buffer)
    }
}
