/// What a verb acts on: a channel by its DAHDI-style number, or a call by its id.
public enum CTITarget: Sendable, Equatable, Hashable {
    case channel(Int)
    case call(String)

    var json: [(String, JSONValue)] {
        switch self {
        case .channel(let channel): [("channel", .int(channel))]
        case .call(let id): [("call_id", .string(id))]
        }
    }
}

/// Where a target is, so a scoped token's limits can be checked.
public struct CTILocation: Sendable, Equatable {
    public var span: Int
    public var channel: Int
    public init(span: Int, channel: Int) {
        self.span = span
        self.channel = channel
    }
}

public enum CTIAudioDirection: String, Sendable, CaseIterable {
    case none, `in`, out, both
}

public enum CTITransferMode: String, Sendable, CaseIterable {
    case blind, attended
}

public enum CTIRecordingFormat: String, Sendable, CaseIterable {
    /// Stereo A-law WAV, left = far end (trunk), right = near end (agent): the recording store's format.
    case wavAlawStereo = "wav-alaw-stereo"
    case wavAlaw = "wav-alaw"
    case wavPCM16 = "wav-pcm16"
}

public struct CTIOriginate: Sendable, Equatable {
    public enum Route: Sendable, Equatable {
        case trunkGroup(String)
        case channel(Int)
    }
    public var route: Route
    public var number: String
    public var callerID: String?
    public var timeoutMilliseconds: Int
    public var callID: String
    public var opID: String
}

public struct CTIRing: Sendable, Equatable {
    public var channel: Int
    public var callerID: String?
    public var timeoutMilliseconds: Int
    public var callID: String
    public var opID: String
}

public struct CTIPlay: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// Prompt files, played in order (names are resolved by the gateway's prompt folder).
        case files([String])
        /// Tone names from the node's tone plan ("dial", "busy", "ringback", …) or DTMF digits as "dtmf:123".
        case tones([String])
    }
    public var target: CTITarget
    public var source: Source
    /// A DTMF digit from the caller stops the playback.
    public var bargeIn: Bool
    public var opID: String

    public init(target: CTITarget, source: Source, bargeIn: Bool, opID: String) {
        self.target = target
        self.source = source
        self.bargeIn = bargeIn
        self.opID = opID
    }
}

public struct CTICollect: Sendable, Equatable {
    public var target: CTITarget
    public var maximumDigits: Int
    public var terminatingDigits: String
    public var firstTimeoutMilliseconds: Int
    public var interDigitTimeoutMilliseconds: Int
    public var opID: String
}

public struct CTIRecordStart: Sendable, Equatable {
    public var target: CTITarget
    public var format: CTIRecordingFormat
    public var maximumMilliseconds: Int
    public var beep: Bool
    public var recordingID: String
    public var opID: String
}

public struct CTISnoop: Sendable, Equatable {
    public var target: CTITarget
    /// What the supervisor hears: `in` = what the channel receives (the caller), `out` = what it sends.
    public var spy: CTIAudioDirection
    /// Where the supervisor's voice goes: `in` = towards the channel's side, `out` = towards the far side,
    /// `both` = barge (everyone hears the supervisor).
    public var whisper: CTIAudioDirection
    /// The channel the supervisor listens on (their own call), when the gateway must connect it.
    public var supervisor: CTITarget?
    public var snoopID: String

    public init(target: CTITarget, spy: CTIAudioDirection, whisper: CTIAudioDirection, supervisor: CTITarget?, snoopID: String) {
        self.target = target
        self.spy = spy
        self.whisper = whisper
        self.supervisor = supervisor
        self.snoopID = snoopID
    }
}

public struct CTITransfer: Sendable, Equatable {
    public enum Destination: Sendable, Equatable {
        /// Blind: the number to transfer to.
        case number(String)
        /// Attended: the consultation call to join the target with.
        case consultation(CTITarget)
    }
    public var target: CTITarget
    public var mode: CTITransferMode
    public var destination: Destination
    public var opID: String
}

public struct CTIClaim: Sendable, Equatable {
    public var spans: [Int]
    public var channels: [Int]
    /// A DNIS pattern: digits, `X` any digit, `[1-5]` a range, `.` any remaining digits (Asterisk style).
    public var dnisPattern: String?
    public var claimID: String
}

/// Every verb the CTI socket offers that the gateway carries out, parsed and validated.
/// Ids a long operation or a new object needs (op_id, call_id, bridge_id …) are always present:
/// the client's own when it supplied one, otherwise one the server generated.
public enum CTIRequest: Sendable, Equatable {
    case answer(CTITarget)
    case hangup(CTITarget, cause: Int)
    case originate(CTIOriginate)
    case ring(CTIRing)
    case sendDTMF(CTITarget, digits: String, durationMilliseconds: Int)
    case play(CTIPlay)
    case stopMedia(CTITarget)
    case collect(CTICollect)
    case recordStart(CTIRecordStart)
    case recordStop(CTITarget)
    case recordPause(CTITarget)
    case recordResume(CTITarget)
    case bridgeCreate(bridgeID: String, members: [CTITarget])
    case bridgeAdd(bridgeID: String, CTITarget)
    case bridgeRemove(bridgeID: String, CTITarget)
    case bridgeDestroy(bridgeID: String)
    case conferenceCreate(conferenceID: String)
    case conferenceAdd(conferenceID: String, CTITarget, moderator: Bool, muted: Bool)
    case conferenceRemove(conferenceID: String, CTITarget)
    case conferenceMute(conferenceID: String, CTITarget, muted: Bool)
    case conferenceDestroy(conferenceID: String)
    case snoop(CTISnoop)
    case snoopStop(snoopID: String)
    case hold(CTITarget)
    case unhold(CTITarget)
    case transfer(CTITransfer)
    case forceRelease(CTITarget, cause: Int)
    case claim(CTIClaim)
    case unclaim(claimID: String)
    case spanStatus(span: Int?)
    case snapshot

    /// The targets a scoped token must be allowed to act on.
    var targets: [CTITarget] {
        switch self {
        case .answer(let t), .hangup(let t, _), .sendDTMF(let t, _, _), .stopMedia(let t), .recordStop(let t),
            .recordPause(let t), .recordResume(let t), .bridgeAdd(_, let t), .bridgeRemove(_, let t),
            .conferenceAdd(_, let t, _, _), .conferenceRemove(_, let t), .conferenceMute(_, let t, _),
            .hold(let t), .unhold(let t), .forceRelease(let t, _):
            [t]
        case .play(let p): [p.target]
        case .collect(let c): [c.target]
        case .recordStart(let r): [r.target]
        case .snoop(let s): [s.target] + (s.supervisor.map { [$0] } ?? [])
        case .transfer(let t):
            if case .consultation(let other) = t.destination { [t.target, other] } else { [t.target] }
        case .bridgeCreate(_, let members): members
        case .originate(let o): if case .channel(let c) = o.route { [.channel(c)] } else { [] }
        case .ring(let r): [.channel(r.channel)]
        case .claim(let c): c.channels.map { .channel($0) }
        case .bridgeDestroy, .conferenceCreate, .conferenceDestroy, .snoopStop, .unclaim, .spanStatus, .snapshot: []
        }
    }
}

/// What the gateway answers a request with when it succeeded.
public enum CTIResult: Sendable, Equatable {
    /// Done (or, for a long operation, accepted: its end comes as an event carrying the op_id).
    case done
    case spanStatus([CTISpanStatus])
    case snapshot(CTISnapshot)
    /// A recording started or joined: its id in the store, which differs from the requested one
    /// when the call was already recorded full-time (the client's id then is a tag on it).
    case recording(id: String)
}

public struct CTISpanStatus: Sendable, Equatable {
    public var span: Int
    /// "e1", "t1", "fxs", "fxo"
    public var kind: String
    /// "pri_net", "pri_cpe", "fxs_ks", "fxo_ks" …
    public var signalling: String
    /// DAHDI alarm names: "red", "yellow", "blue", "los", "lfa" … empty when the span is up.
    public var alarms: [String]
    /// The D-channel's state ("up"/"down") on PRI spans; nil on analog.
    public var dchannel: String?
    public var channels: Int
    public var channelsInUse: Int

    public init(span: Int, kind: String, signalling: String, alarms: [String], dchannel: String?, channels: Int, channelsInUse: Int) {
        self.span = span
        self.kind = kind
        self.signalling = signalling
        self.alarms = alarms
        self.dchannel = dchannel
        self.channels = channels
        self.channelsInUse = channelsInUse
    }

    var json: JSONValue {
        .object([
            ("span", .int(span)), ("kind", .string(kind)), ("signalling", .string(signalling)),
            ("alarms", .array(alarms.map { .string($0) })), ("dchannel", .string(dchannel)),
            ("channels", .int(channels)), ("channels_in_use", .int(channelsInUse)),
        ])
    }
}

public struct CTICallState: Sendable, Equatable {
    public var callID: String
    public var span: Int
    public var channel: Int
    /// "offered", "ringing", "answered", "held", "releasing" …
    public var state: String
    /// "in" or "out"
    public var direction: String
    public var ani: String?
    public var dnis: String?
    public var bridgeID: String?
    /// The session that claimed the call, if any.
    public var claimedBy: String?

    public init(callID: String, span: Int, channel: Int, state: String, direction: String, ani: String? = nil, dnis: String? = nil, bridgeID: String? = nil, claimedBy: String? = nil) {
        self.callID = callID
        self.span = span
        self.channel = channel
        self.state = state
        self.direction = direction
        self.ani = ani
        self.dnis = dnis
        self.bridgeID = bridgeID
        self.claimedBy = claimedBy
    }

    var json: JSONValue {
        .object([
            ("call_id", .string(callID)), ("span", .int(span)), ("channel", .int(channel)), ("state", .string(state)),
            ("direction", .string(direction)), ("ani", .string(ani)), ("dnis", .string(dnis)),
            ("bridge_id", .string(bridgeID)), ("claimed_by", .string(claimedBy)),
        ])
    }
}

public struct CTIBridgeState: Sendable, Equatable {
    public var bridgeID: String
    public var calls: [String]
    public init(bridgeID: String, calls: [String]) {
        self.bridgeID = bridgeID
        self.calls = calls
    }
    var json: JSONValue { .object([("bridge_id", .string(bridgeID)), ("calls", .array(calls.map { .string($0) }))]) }
}

public struct CTISnapshot: Sendable, Equatable {
    public var spans: [CTISpanStatus]
    public var calls: [CTICallState]
    public var bridges: [CTIBridgeState]
    public init(spans: [CTISpanStatus], calls: [CTICallState], bridges: [CTIBridgeState]) {
        self.spans = spans
        self.calls = calls
        self.bridges = bridges
    }
}
