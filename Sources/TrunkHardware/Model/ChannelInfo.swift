import TrunkCore

/// Channel signalling as DAHDI names it. DAHDI names analog signalling after the far end:
/// an FXS port (which feeds a phone) uses FXO signalling, an FXO port FXS signalling.
public enum ChannelSignalling: String, Sendable, Codable {
    /// A clear 64 kbit/s bearer channel.
    case bearer = "clear"
    /// An HDLC D-channel with the FCS done by the device (`hardhdlc` / `dchan`).
    case hdlc = "hardhdlc"
    /// FXO kewl-start signalling, used on an FXS port (`fxoks`).
    case fxoKewlStart = "fxoks"
    /// FXS kewl-start signalling, used on an FXO port (`fxsks`).
    case fxsKewlStart = "fxsks"

    /// `DAHDI_SIG_*` value.
    public var dahdiValue: Int32 {
        switch self {
        case .bearer: 1 << 7
        case .hdlc: (1 << 19) | (1 << 7)
        case .fxoKewlStart: (1 << 5) | (1 << 12)
        case .fxsKewlStart: (1 << 2) | (1 << 13)
        }
    }

    /// The port type a technician sees on the faceplate.
    public var portName: String {
        switch self {
        case .bearer: "B"
        case .hdlc: "D"
        case .fxoKewlStart: "FXS"
        case .fxsKewlStart: "FXO"
        }
    }
}

/// Hook state as the channel sees it.
public enum HookState: String, Sendable, Codable {
    case onHook = "on-hook"
    case offHook = "off-hook"
    case ringing
}

/// What `DAHDI_GET_PARAMS` reports about one channel.
public struct ChannelParameters: Hashable, Sendable, Codable {
    public var channel: Int
    public var span: Int
    /// Position within the span: the E1 timeslot, or the analog port number.
    public var chanPos: Int
    public var signalling: ChannelSignalling
    public var law: AudioLaw
    public var linear: Bool
    public var blockSize: Int
    public var hookState: HookState
    public var polarityReversed: Bool
    public var alarms: SpanAlarms
    public var isOpen: Bool

    public init(channel: Int, span: Int, chanPos: Int, signalling: ChannelSignalling, law: AudioLaw, linear: Bool,
                blockSize: Int, hookState: HookState, polarityReversed: Bool, alarms: SpanAlarms, isOpen: Bool) {
        self.channel = channel
        self.span = span
        self.chanPos = chanPos
        self.signalling = signalling
        self.law = law
        self.linear = linear
        self.blockSize = blockSize
        self.hookState = hookState
        self.polarityReversed = polarityReversed
        self.alarms = alarms
        self.isOpen = isOpen
    }
}

/// Buffer policy (`DAHDI_SET_BUFINFO`): when transmission starts after the buffer empties.
public enum BufferPolicy: Int32, Sendable, Codable {
    case immediate = 0
    case whenFull = 1
    case halfFull = 2
}
