/// Span alarm bits with DAHDI's values (`DAHDI_ALARM_*`).
public struct SpanAlarms: OptionSet, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let recover = SpanAlarms(rawValue: 1 << 0)
    public static let loopback = SpanAlarms(rawValue: 1 << 1)
    /// Remote alarm indication (RAI) received from the far end.
    public static let yellow = SpanAlarms(rawValue: 1 << 2)
    /// Loss of signal or frame alignment here.
    public static let red = SpanAlarms(rawValue: 1 << 3)
    /// Alarm indication signal (all ones) received.
    public static let blue = SpanAlarms(rawValue: 1 << 4)
    public static let notOpen = SpanAlarms(rawValue: 1 << 5)
    public static let los = SpanAlarms(rawValue: 1 << 8)
    public static let lfa = SpanAlarms(rawValue: 1 << 9)
    public static let lmfa = SpanAlarms(rawValue: 1 << 10)

    /// The names technicians read, in the order `dahdi_tool` shows them.
    public var names: [String] {
        var names: [String] = []
        let all: [(SpanAlarms, String)] = [
            (.red, "RED"), (.yellow, "YELLOW"), (.blue, "BLUE"), (.los, "LOS"), (.lfa, "LFA"),
            (.lmfa, "LMFA"), (.loopback, "LOOPBACK"), (.recover, "RECOVERING"), (.notOpen, "NOTOPEN"),
        ]
        for (alarm, name) in all where contains(alarm) { names.append(name) }
        return names
    }

    public var description: String { isEmpty ? "OK" : names.joined(separator: " ") }
}

/// Line error counters (`struct dahdi_spaninfo` fields), plus slips, which DAHDI does not count.
public struct SpanCounters: Hashable, Sendable, Codable {
    public var bipolarViolations = 0
    public var crc4Errors = 0
    public var framingErrors = 0
    public var eBitErrors = 0
    public var erroredSeconds = 0
    public var slips = 0
    /// D-channel frames that failed their FCS check.
    public var badFCS = 0
    public var aborts = 0
    public var overruns = 0

    public init() {}
}

public enum SpanType: String, Sendable, Codable {
    case e1 = "E1"
    case analog
}

/// Which end of the E1 line a span plays in ISDN terms.
public enum LineRole: String, Sendable, Codable {
    case network
    case user
}

/// What `DAHDI_SPANSTAT` reports, in Trunkline's types.
public struct SpanStatus: Hashable, Sendable, Codable {
    public var span: Int
    public var name: String
    public var description: String
    public var type: SpanType
    public var role: LineRole?
    public var alarms: SpanAlarms
    public var counters: SpanCounters
    /// Timing priority (`span=N,<timing>`): 0 never a clock source, 1 first choice, …
    public var timingPriority: Int
    public var lineCode: String?
    public var framing: String?
    public var baseChannel: Int
    public var totalChannels: Int
    public var backend: String

    public init(span: Int, name: String, description: String, type: SpanType, role: LineRole?, alarms: SpanAlarms,
                counters: SpanCounters, timingPriority: Int, lineCode: String?, framing: String?, baseChannel: Int,
                totalChannels: Int, backend: String) {
        self.span = span
        self.name = name
        self.description = description
        self.type = type
        self.role = role
        self.alarms = alarms
        self.counters = counters
        self.timingPriority = timingPriority
        self.lineCode = lineCode
        self.framing = framing
        self.baseChannel = baseChannel
        self.totalChannels = totalChannels
        self.backend = backend
    }
}
