import TrunkCore
import TrunkHardware

/// The local control protocol between trunkctl and trunkd: one JSON-RPC 2.0 object per line
/// over a Unix socket in the data folder (owner-only). Results are plain Codable values.
public enum ControlMethod: String, Sendable, Codable, CaseIterable {
    case status
    case spanShow = "span.show"
    case spanResetCounters = "span.counters.reset"
    case simCut = "sim.cut"
    case simRestore = "sim.restore"
    case simImpair = "sim.impair"
    case timing = "test.timing"
    case priSpans = "pri.spans"
    case priSpan = "pri.span"
    case priCall = "pri.call"
    case priHangup = "pri.hangup"
    case priRestart = "pri.restart"
    case priTrace = "pri.trace"
    case priDebug = "pri.debug"
    case calls = "calls"
    case priBlock = "pri.block"
    case priUnblock = "pri.unblock"
    case simCall = "sim.call"
    case simTrafficStart = "sim.traffic.start"
    case simTrafficStatus = "sim.traffic.status"
    case simTrafficStop = "sim.traffic.stop"
    case alarms = "alarms"
    case configApply = "config.apply"
    case spanLoopback = "span.loopback"
    case chanState = "chan.state"
    case chanBlock = "chan.block"
    case chanUnblock = "chan.unblock"
    case chanTone = "chan.tone"
    case chanLevel = "chan.level"
    /// Streamed: `chan.monitor.audio` notifications, then the reply.
    case chanMonitor = "chan.monitor"
    case simListen = "sim.listen"
}

/// A call from the lab's carrier (an E1 span) or exchange (an FXS span) into the gateway, as a
/// subscriber would make it.
public struct SimCallParams: Codable, Sendable, Equatable {
    public var span: Int
    public var called: String
    public var calling: String?
    /// The B-channel, or on an FXS span the port.
    public var channel: Int?
    /// FXS spans: how caller ID is sent, "fsk" (between the rings) or "dtmf" (before them).
    public var callerID: String?
    /// Keyed in-band one second after the answer.
    public var dtmf: String?
    /// The caller hangs up this long after the answer (nil: waits for the gateway).
    public var holdMs: Int?
    public init(span: Int, called: String, calling: String?, channel: Int?, dtmf: String?, holdMs: Int?, callerID: String? = nil) {
        self.span = span
        self.callerID = callerID
        self.called = called
        self.calling = calling
        self.channel = channel
        self.dtmf = dtmf
        self.holdMs = holdMs
    }
}

public struct SimTrafficParams: Codable, Sendable, Equatable {
    public var span: Int
    public var profile: TrafficGenerator.Profile
    public init(span: Int, profile: TrafficGenerator.Profile) {
        self.span = span
        self.profile = profile
    }
}

public struct ControlRequest<Params: Codable & Sendable>: Codable, Sendable {
    public var jsonrpc = "2.0"
    public var id: Int
    public var method: String
    public var params: Params

    public init(id: Int, method: ControlMethod, params: Params) {
        self.id = id
        self.method = method.rawValue
        self.params = params
    }
}

/// The part of every request read before its parameters are.
struct ControlEnvelope: Codable {
    var id: Int?
    var method: String?
}

public struct ControlErrorBody: Codable, Sendable, Equatable {
    public var code: Int
    public var message: String
    public var data: String?
}

public struct ControlResponse<Result: Codable & Sendable>: Codable, Sendable {
    public var jsonrpc = "2.0"
    public var id: Int?
    public var result: Result?
    public var error: ControlErrorBody?
}

public struct NoParams: Codable, Sendable, Equatable { public init() {} }
public struct SpanParams: Codable, Sendable, Equatable {
    public var span: Int
    public init(span: Int) { self.span = span }
}

/// Changes to a span's impairments; absent fields stay as they are.
public struct ImpairParams: Codable, Sendable, Equatable {
    public var span: Int
    public var bitErrorRate: Double?
    public var dChannelOnly: Bool?
    public var delayMs: Int?
    public var slipEveryMs: Int?
    public var alarmIndicationSignal: Bool?
    public var echoModel: Int?
    public var echoReturnLossDB: Double?
    public var echoDelayMs: Int?
    public var corruptFrames: Int?
    /// Clear every impairment first (cut included).
    public var clear: Bool?

    public init(span: Int) { self.span = span }
}

/// How a span is doing, plus what a technician wants next to it.
public struct SpanReport: Codable, Sendable, Equatable {
    public var status: SpanStatus
    public var channelsOpen: Int
    public var impairments: Impairments?
}

public struct StatusReport: Codable, Sendable, Equatable {
    public var node: String
    public var version: String
    /// Span number timing the system, 0 for the internal clock.
    public var syncSource: Int
    public var spans: [SpanReport]
    public var backends: [BackendReport]
    public var uptimeSeconds: Double
    public var ticks: UInt64
    /// Channels blocked for maintenance or waiting for a call to end to be (absent: none).
    public var maintenance: [ChannelMaintenanceReport]?

    public var hasAlarms: Bool { spans.contains { !$0.status.alarms.isEmpty } }
}

public struct BackendReport: Codable, Sendable, Equatable {
    public var name: String
    public var detail: String
}

public struct SpanShowReport: Codable, Sendable, Equatable {
    public var span: SpanReport
    public var channels: [ChannelParameters]
}

public struct TimingReport: Codable, Sendable, Equatable {
    public var ticks: UInt64
    public var skippedTicks: UInt64
    public var realtime: Bool
    public var latenessP50Microseconds: UInt64
    public var latenessP99Microseconds: UInt64
    public var latenessP999Microseconds: UInt64
    public var latenessMaxMicroseconds: UInt64
    /// Ticks counted against CLOCK_MONOTONIC over the sample, as dahdi_test reports it.
    public var accuracyPercent: Double
    public var sampleSeconds: Double
}

public struct TimingParams: Codable, Sendable, Equatable {
    public var seconds: Double
    public init(seconds: Double) { self.seconds = seconds }
}

/// Stable numeric error codes (JSON-RPC reserves −32768…−32000 for its own).
public enum ControlErrorCode {
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602

    public static func code(for error: TrunkError.Code) -> Int {
        switch error {
        case .invalidArgument: 1001
        case .notFound: 1002
        case .busy: 1003
        case .permissionDenied: 1004
        case .deviceError: 1005
        case .protocolError: 1006
        case .alreadyRunning: 1007
        case .unavailable: 1008
        case .internal: 1099
        }
    }
}

public struct PRICallParams: Codable, Sendable, Equatable {
    public var span: Int
    public var called: String
    public var calling: String?
    public var channel: Int?
    public init(span: Int, called: String, calling: String?, channel: Int?) {
        self.span = span
        self.called = called
        self.calling = calling
        self.channel = channel
    }
}

public struct PRICallResult: Codable, Sendable, Equatable {
    public var call: String
    public var channel: Int?
}

public struct PRIChannelParams: Codable, Sendable, Equatable {
    public var span: Int
    /// nil: the whole interface (restart).
    public var channel: Int?
    public var cause: Int?
    public init(span: Int, channel: Int?, cause: Int? = nil) {
        self.span = span
        self.channel = channel
        self.cause = cause
    }
}

public struct PRITraceParams: Codable, Sendable, Equatable {
    public var span: Int
    public var path: String
    public var seconds: Double
    public init(span: Int, path: String, seconds: Double) {
        self.span = span
        self.path = path
        self.seconds = seconds
    }
}

public struct PRITraceResult: Codable, Sendable, Equatable {
    public var path: String
    public var frames: Int
}

public struct PRIDebugParams: Codable, Sendable, Equatable {
    public var span: Int
    public var seconds: Double
    public init(span: Int, seconds: Double) {
        self.span = span
        self.seconds = seconds
    }
}

public struct PRIDebugResult: Codable, Sendable, Equatable {
    public var lines: [String]
    public init(lines: [String]) { self.lines = lines }
}

public struct CallsReport: Codable, Sendable, Equatable {
    public var live: [CallRecord]
    public var recentlyEnded: [CallRecord]
}
