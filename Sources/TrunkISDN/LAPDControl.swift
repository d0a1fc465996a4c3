/// Supervisory frame functions (Q.921 §3.6.7).
public enum LAPDSupervisoryFunction: UInt8, Hashable, Sendable {
    case receiveReady = 0x01
    case receiveNotReady = 0x05
    case reject = 0x09
}

/// Unnumbered frame functions (Q.921 §3.6.8), as the control octet with the P/F bit clear.
public enum LAPDUnnumberedFunction: UInt8, Hashable, Sendable {
    case setAsynchronousBalancedModeExtended = 0x6F
    case unnumberedAcknowledgement = 0x63
    case disconnectedMode = 0x0F
    case disconnect = 0x43
    case frameReject = 0x87
    case unnumberedInformation = 0x03
    case exchangeIdentification = 0xAF

    /// Whether Q.921 allows an information field after this control octet.
    var carriesInformation: Bool {
        switch self {
        case .unnumberedInformation, .exchangeIdentification, .frameReject: return true
        default: return false
        }
    }
}

/// The control field of a LAPD frame in modulo-128 (extended) operation.
public enum LAPDControl: Hashable, Sendable {
    /// I frame: send sequence number N(S), receive sequence number N(R), P bit.
    case information(ns: UInt8, nr: UInt8, poll: Bool)
    /// S frame: function, N(R), P/F bit.
    case supervisory(LAPDSupervisoryFunction, nr: UInt8, pollFinal: Bool)
    /// U frame: function and P/F bit.
    case unnumbered(LAPDUnnumberedFunction, pollFinal: Bool)

    /// The P or F bit, whichever the frame carries.
    public var pollFinal: Bool {
        switch self {
        case .information(_, _, let poll): return poll
        case .supervisory(_, _, let pf): return pf
        case .unnumbered(_, let pf): return pf
        }
    }

    /// Encoded length: two octets for I and S frames, one for U frames.
    var encodedCount: Int {
        if case .unnumbered = self { return 1 }
        return 2
    }
}

/// Sequence numbers live in 0...127; these keep the modulo arithmetic in one place.
enum Modulo128 {
    static func add(_ a: UInt8, _ b: Int) -> UInt8 {
        UInt8((Int(a) + b) & 0x7F)
    }

    /// (a - b) mod 128, i.e. how far a is ahead of b.
    static func distance(from b: UInt8, to a: UInt8) -> Int {
        (Int(a) - Int(b)) & 0x7F
    }
}
