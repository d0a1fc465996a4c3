/// An event a channel reports, with DAHDI's numbering (`DAHDI_EVENT_*` in <dahdi/user.h>) so
/// the DAHDI backend passes kernel values straight through and the simulator speaks the same.
public struct ChannelEvent: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Int32, Sendable, Codable {
        case onHook = 1
        case ringOffHook = 2
        case winkFlash = 3
        case alarm = 4
        case noAlarm = 5
        case abort = 6
        case overrun = 7
        case badFCS = 8
        case dialComplete = 9
        case ringerOn = 10
        case ringerOff = 11
        case hookComplete = 12
        case bitsChanged = 13
        case pulseStart = 14
        case timerExpired = 15
        case timerPing = 16
        case polarity = 17
        case ringBegin = 18
        case echoCancellerDisabled = 19
        case removed = 20
        case readOverrun = 29
        case writeUnderrun = 30
        /// `DAHDI_EVENT_PULSEDIGIT` (1 << 16), OR'd with the digit.
        case pulseDigit = 0x10000
        /// `DAHDI_EVENT_DTMFDOWN` (1 << 17), OR'd with the digit.
        case dtmfDown = 0x20000
        /// `DAHDI_EVENT_DTMFUP` (1 << 18), OR'd with the digit.
        case dtmfUp = 0x40000
    }

    public var kind: Kind
    /// The ASCII digit carried by pulse and DTMF events.
    public var digit: UInt8?

    public init(_ kind: Kind, digit: UInt8? = nil) {
        self.kind = kind
        self.digit = digit
    }

    /// Decode the integer `DAHDI_GETEVENT` returns; nil for 0 (no event) or a code we do not know.
    public init?(rawValue: Int32) {
        for flag in [Kind.pulseDigit, .dtmfDown, .dtmfUp] where rawValue & flag.rawValue != 0 {
            self.init(flag, digit: UInt8(truncatingIfNeeded: rawValue & 0xFF))
            return
        }
        guard let kind = Kind(rawValue: rawValue) else { return nil }
        self.init(kind)
    }

    public var rawValue: Int32 { kind.rawValue | Int32(digit ?? 0) }

    public var description: String {
        let name: String
        switch kind {
        case .onHook: name = "ONHOOK"
        case .ringOffHook: name = "RINGOFFHOOK"
        case .winkFlash: name = "WINKFLASH"
        case .alarm: name = "ALARM"
        case .noAlarm: name = "NOALARM"
        case .abort: name = "ABORT"
        case .overrun: name = "OVERRUN"
        case .badFCS: name = "BADFCS"
        case .dialComplete: name = "DIALCOMPLETE"
        case .ringerOn: name = "RINGERON"
        case .ringerOff: name = "RINGEROFF"
        case .hookComplete: name = "HOOKCOMPLETE"
        case .bitsChanged: name = "BITSCHANGED"
        case .pulseStart: name = "PULSE_START"
        case .timerExpired: name = "TIMER_EXPIRED"
        case .timerPing: name = "TIMER_PING"
        case .polarity: name = "POLARITY"
        case .ringBegin: name = "RINGBEGIN"
        case .echoCancellerDisabled: name = "EC_DISABLED"
        case .removed: name = "REMOVED"
        case .readOverrun: name = "READ_OVERRUN"
        case .writeUnderrun: name = "WRITE_UNDERRUN"
        case .pulseDigit: name = "PULSEDIGIT"
        case .dtmfDown: name = "DTMFDOWN"
        case .dtmfUp: name = "DTMFUP"
        }
        if let digit { return "\(name) '\(Character(Unicode.Scalar(digit)))'" }
        return name
    }
}

/// Hook operations (`DAHDI_HOOK` argument values).
public enum HookOperation: Int32, Sendable, Codable, CaseIterable {
    case onHook = 0
    case offHook = 1
    case wink = 2
    case flash = 3
    case start = 4
    case ring = 5
    case ringOff = 6
}
